"""Explanations rank the raw column the label depends on first, whatever the model."""

import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from spark_automl.ensemble.estimators import BaggedEstimator, VotingEnsembleEstimator
from spark_automl.explain import engineered_importance, explain_model, mean_abs_shap, tree_shap_values
from spark_automl.featurize.transformer import AutoFeaturizer, ColumnPlan
from spark_automl.search.trial import build_estimator, fit_estimator

RAW = {"signal", "cat", "noise"}
FAST_LGBM = {"n_estimators": 50, "num_leaves": 15}


def _frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=n)
    noise[rng.random(n) < 0.2] = np.nan  # so the noise column has a missing indicator
    return pd.DataFrame({
        "signal": rng.normal(size=n),
        "cat": rng.choice(["a", "b", "c"], size=n),
        "noise": noise,
        "id": np.arange(n),  # dropped by the plan: must not be explained
    })


def _featurizer() -> AutoFeaturizer:
    return AutoFeaturizer([
        ColumnPlan("signal", "numeric"),
        ColumnPlan("cat", "categorical", vocabulary=["a", "b", "c"]),
        ColumnPlan("noise", "numeric", missing_indicator=True),
        ColumnPlan("id", "drop"),
    ]).fit()


def _binary_label(X: pd.DataFrame, seed: int = 1) -> np.ndarray:
    logit = 3.0 * X["signal"] + 0.3 * (X["cat"] == "c") + np.random.default_rng(seed).normal(scale=0.5, size=len(X))
    return np.where(logit > 0, "yes", "no")


def _pipeline(model: str, task: str, X: pd.DataFrame, y, classes=None, params=None) -> Pipeline:
    featurizer = _featurizer()
    est = build_estimator(model, params or {}, task, classes, n_jobs=1, seed=0)
    fit_estimator(est, model, task, featurizer.transform(X), y, None)
    return Pipeline([("featurizer", featurizer), ("model", est)])


def _check(table: pd.DataFrame, method: str, min_signal: float = 0.6) -> None:
    assert list(table.columns) == ["feature", "importance", "method"]
    assert sorted(table["feature"]) == sorted(RAW)  # one row per raw column; one-hot levels folded back
    assert table["feature"].iloc[0] == "signal"
    assert table["importance"].iloc[0] >= min_signal
    assert (table["importance"] >= 0).all()
    assert table["importance"].sum() == pytest.approx(1.0)
    assert table["importance"].is_monotonic_decreasing
    assert set(table["method"]) == {method}


def test_lightgbm_binary_uses_shap_without_labels():
    X = _frame()
    y = _binary_label(X)
    pipe = _pipeline("LightGBM", "classification", X, y, classes=["no", "yes"], params=FAST_LGBM)
    table = explain_model(pipe, X, task="classification")
    _check(table, "shap", min_signal=0.8)

    eng = engineered_importance(pipe, X)
    assert set(eng["feature"]) == set(pipe.named_steps["featurizer"].get_feature_names_out())
    assert {"cat=a", "cat=__other__", "noise__missing"} <= set(eng["feature"])
    assert eng["importance"].sum() == pytest.approx(1.0)
    # The raw table is exactly the engineered one summed per raw column.
    folded = eng.groupby("raw_feature")["importance"].sum()
    for row in table.itertuples():
        assert row.importance == pytest.approx(folded[row.feature])


def test_shap_sample_is_seeded_and_bounded():
    X = _frame(n=900)
    y = _binary_label(X)
    pipe = _pipeline("LightGBM", "classification", X, y, classes=["no", "yes"], params=FAST_LGBM)
    a = explain_model(pipe, X, max_rows=200, seed=3)
    b = explain_model(pipe, X, max_rows=200, seed=3)
    c = explain_model(pipe, X, max_rows=200, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.set_index("feature")["importance"], c.set_index("feature").loc[a["feature"], "importance"])


def test_logistic_regression_uses_permutation_on_raw_columns():
    X = _frame()
    y = _binary_label(X)
    pipe = _pipeline("LogisticRegression", "classification", X, y, classes=["no", "yes"])
    table = explain_model(pipe, X, y, task="classification", classes=["no", "yes"])
    _check(table, "permutation")

    eng = engineered_importance(pipe, X, y, classes=["no", "yes"])
    assert eng["feature"].iloc[0] == "signal" and set(eng["method"]) == {"permutation"}
    assert eng["importance"].sum() == pytest.approx(1.0)


def test_permutation_without_labels_is_a_clear_error():
    X = _frame()
    y = _binary_label(X)
    pipe = _pipeline("LogisticRegression", "classification", X, y, classes=["no", "yes"])
    with pytest.raises(ValueError, match="needs the labels: pass y"):
        explain_model(pipe, X)
    with pytest.raises(ValueError, match="needs a tree model"):
        explain_model(pipe, X, y, method="shap")


def test_forced_permutation_on_a_tree_model():
    X = _frame()
    y = _binary_label(X)
    pipe = _pipeline("LightGBM", "classification", X, y, classes=["no", "yes"], params=FAST_LGBM)
    _check(explain_model(pipe, X, y, method="permutation"), "permutation")


@pytest.mark.parametrize("model", ["LightGBM", "RandomForest"])
def test_regression_ranks_signal_first(model):
    X = _frame()
    y = 4.0 * X["signal"].to_numpy() + 0.5 * (X["cat"] == "b") + np.random.default_rng(2).normal(scale=0.3, size=len(X))
    params = FAST_LGBM if model == "LightGBM" else {"n_estimators": 30}
    pipe = _pipeline(model, "regression", X, y, params=params)
    _check(explain_model(pipe, X, task="regression"), "shap", min_signal=0.8)
    _check(explain_model(pipe, X, y, task="regression", method="permutation"), "permutation", min_signal=0.8)


@pytest.mark.parametrize("model", ["LightGBM", "XGBoostClassifier", "ExtremeRandomTrees",
                                   pytest.param("CatBoost", marks=pytest.mark.extra("catboost"))])
def test_multiclass_string_labels_with_trees(model):
    X = _frame()
    classes = ["high", "low", "mid"]  # not in the order the signal sorts them
    y = np.where(X["signal"] > 0.5, "high", np.where(X["signal"] < -0.5, "low", "mid"))
    params = {"n_estimators": 30} if model != "LightGBM" else FAST_LGBM
    pipe = _pipeline(model, "classification", X, y, classes=classes, params=params)
    _check(explain_model(pipe, X, task="classification", classes=classes), "shap", min_signal=0.6)
    # The log-loss scorer must follow `classes`, not sorted order: permutation agrees on the winner.
    _check(explain_model(pipe, X, y, classes=classes, method="permutation"), "permutation")


def _binary_members(specs) -> tuple:
    """(X, y, classes, featurizer, fitted members) for specs of (model, params, seed, training rows or None)."""
    X = _frame()
    y = _binary_label(X)
    classes = ["no", "yes"]
    featurizer = _featurizer()
    Xf = featurizer.transform(X)
    members = []
    for name, params, seed, rows in specs:
        rows = np.arange(len(X)) if rows is None else rows
        est = build_estimator(name, params, "classification", classes, n_jobs=1, seed=seed)
        members.append(fit_estimator(est, name, "classification", Xf[rows], y[rows], None))
    return X, y, classes, featurizer, members


def test_voting_ensemble_of_two_members_uses_permutation():
    X, y, classes, featurizer, members = _binary_members([("LightGBM", FAST_LGBM, 0, None),
                                                          ("LogisticRegression", {}, 0, None)])
    ensemble = VotingEnsembleEstimator(members, ["LightGBM", "LogisticRegression"], [0.5, 0.5],
                                       "classification", classes).fit()
    pipe = Pipeline([("featurizer", featurizer), ("model", ensemble)])
    _check(explain_model(pipe, X, y, task="classification", classes=classes), "permutation")
    # classes can also come from the fitted ensemble itself.
    _check(explain_model(pipe, X, y), "permutation")


@pytest.mark.parametrize("model, params", [("LightGBM", FAST_LGBM), ("ExtremeRandomTrees", {"n_estimators": 20})])
def test_a_bag_of_tree_models_is_explained_by_its_fold_models_mean_shap(model, params):
    n = len(_frame())
    X, y, classes, featurizer, folds = _binary_members([(model, params, part, np.arange(n) % 3 != part)
                                                        for part in range(3)])
    pipe = Pipeline([("featurizer", featurizer), ("model", BaggedEstimator.of(folds, model, "classification", classes))])
    if model == "ExtremeRandomTrees":
        pytest.importorskip("shap")
    table = explain_model(pipe, X, task="classification")  # no labels: only SHAP can explain it
    _check(table, "shap")
    each = [explain_model(Pipeline([("featurizer", featurizer), ("model", f)]), X, task="classification")
            .set_index("feature")["importance"] for f in folds]
    mean = pd.concat(each, axis=1).mean(axis=1)  # the fold models' own tables, averaged
    got = table.set_index("feature")["importance"]
    np.testing.assert_allclose(got[mean.index], mean, rtol=0.02)  # the bag averages before normalising


@pytest.mark.parametrize("model,params", [("LightGBM", FAST_LGBM), ("XGBoostClassifier", {"n_estimators": 30}),
                                          pytest.param("CatBoost", {"n_estimators": 50},
                                                       marks=pytest.mark.extra("catboost"))])
@pytest.mark.parametrize("y_kind", ["binary", "multiclass"])
def test_native_contributions_equal_shap_tree_explainer(y_kind, model, params):
    """The boosting libraries' own TreeSHAP (no shap import, no 'explain' extra) is shap's, layout included."""
    X = _frame()
    if y_kind == "binary":
        y, classes = _binary_label(X), ["no", "yes"]
    else:
        y, classes = np.where(X["signal"] > 0.5, "high", np.where(X["signal"] < -0.5, "low", "mid")), ["high", "low", "mid"]
    pipe = _pipeline(model, "classification", X, y, classes=classes, params=params)
    Xf = pipe.named_steps["featurizer"].transform(X)
    tree = pipe.named_steps["model"].estimator_
    ours = tree_shap_values(tree, Xf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's own import and output-format notices
        import shap

        reference = shap.TreeExplainer(tree).shap_values(Xf, check_additivity=False)
    assert ours.shape == np.shape(reference) == ((len(X), Xf.shape[1]) if y_kind == "binary" else (len(X), Xf.shape[1], 3))
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-9)


def test_shap_failure_falls_back_to_permutation():
    # LightGBM cannot compute SHAP values for linear trees: auto falls back, forced shap raises.
    X = _frame()
    y = _binary_label(X)
    pipe = _pipeline("LightGBM", "classification", X, y, classes=["no", "yes"],
                     params={"n_estimators": 30, "linear_tree": True})
    _check(explain_model(pipe, X, y), "permutation")
    with pytest.raises(ValueError, match=r"pass y .*SHAP failed \(LightGBMError"):
        explain_model(pipe, X)
    with pytest.raises(Exception, match="linear trees"):
        explain_model(pipe, X, method="shap")


def test_mean_abs_shap_accepts_every_shap_layout():
    rng = np.random.default_rng(0)
    per_class = [rng.normal(size=(5, 4)) for _ in range(3)]
    expected = sum(np.abs(v).mean(axis=0) for v in per_class)
    np.testing.assert_allclose(mean_abs_shap(per_class, 4), expected)                      # list of (n, f)
    np.testing.assert_allclose(mean_abs_shap(np.stack(per_class, axis=-1), 4), expected)   # (n, f, k)
    np.testing.assert_allclose(mean_abs_shap(np.stack(per_class, axis=0), 4), expected)    # (k, n, f)
    np.testing.assert_allclose(mean_abs_shap(per_class[0], 4), np.abs(per_class[0]).mean(axis=0))


def test_lightgbm_is_explained_by_its_own_contributions_on_a_max_rows_sample(monkeypatch):
    """The cheap path: ONE LightGBM pred_contrib pass over a max_rows sample, never shap's TreeExplainer
    (which parses all 400 trees), and the table is exactly those contributions folded to raw columns."""
    X = _frame(n=3000)
    y = _binary_label(X)
    pipe = _pipeline("LightGBM", "classification", X, y, classes=["no", "yes"],
                     params={"n_estimators": 400, "num_leaves": 31, "learning_rate": 0.05})
    booster = pipe.named_steps["model"].estimator_.booster_
    calls = []
    original = booster.predict

    def spy(data, *args, **kwargs):
        out = original(data, *args, **kwargs)
        calls.append((np.asarray(data).shape, kwargs.get("pred_contrib", False), np.asarray(out)))
        return out

    def refuse(*args, **kwargs):
        raise AssertionError("LightGBM must not go through shap.TreeExplainer")

    monkeypatch.setattr(booster, "predict", spy)
    monkeypatch.setitem(sys.modules, "shap", types.SimpleNamespace(TreeExplainer=refuse))
    table = explain_model(pipe, X, max_rows=1000)
    assert (table["method"] == "shap").all() and table["feature"].iloc[0] == "signal"
    [(shape, pred_contrib, phi)] = calls
    featurizer = pipe.named_steps["featurizer"]
    assert pred_contrib and shape == (1000, len(featurizer.get_feature_names_out()))
    per_raw = pd.Series(np.abs(phi[:, :-1]).mean(axis=0), index=featurizer.raw_column_of()).groupby(level=0).sum()
    got = table.set_index("feature")["importance"]
    np.testing.assert_allclose(got.loc[per_raw.index].to_numpy(), (per_raw / per_raw.sum()).to_numpy(), rtol=1e-9)
