"""One contract over every entry of the model registry, all tasks (sklearn's parametrize_with_checks idea).

Every test is parametrized by registry entry, so a failure names the model. Learners (tabular tasks):
clone, pickle, same seed -> same predictions, sample weights change the fit (where claimed), ONNX export
through the project's own helper matches onnxruntime (where claimed). Statistical forecasters: the fitted
forecaster the project logs pickles and forecasts the same, and two fresh fits agree; they claim neither
weights nor ONNX.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from spark_automl.featurize.transformer import AutoFeaturizer, ColumnPlan
from spark_automl.models import LEARNER, REGISTRY, STATISTICAL
from spark_automl.models.registry import TASKS
from spark_automl.search.trial import build_estimator, fit_estimator, predict
from tests.threads import threads, threads_seen_by_fit


def _extra_marks(spec) -> tuple:
    """A model of an install extra (CatBoost) is tested where that extra is installed."""
    return (pytest.mark.extra(spec.extra),) if spec.extra else ()


RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 5)).astype(np.float32)
Y_CLS = np.where(X[:, 0] + 0.3 * RNG.normal(size=120) > 0, "yes", "no")
Y_REG = 3 * X[:, 0] - X[:, 1] + 0.1 * RNG.normal(size=120)

CASES = [pytest.param(task, name, marks=_extra_marks(REGISTRY.get(name, task)), id=f"{task}-{name}")
         for task in ("classification", "regression") for name in REGISTRY.names(task)]
# every (task, entry) pair of the registry, whatever the task
ENTRIES = [(task, spec) for task in TASKS for spec in REGISTRY.for_task(task)]


def _params(entries, **marks):
    """pytest params named task-model; `marks` maps that id to the marks of a known violation."""
    return [pytest.param(task, spec, id=f"{task}-{spec.name}",
                         marks=(*_extra_marks(spec), *marks.get(f"{task}-{spec.name}", ())))
            for task, spec in entries]


@pytest.mark.parametrize("task,name", CASES)
def test_every_model_trains_with_its_defaults_and_learns(task, name):
    spec = REGISTRY.get(name, task)
    for params in spec.defaults:
        for key, value in params.items():
            assert key in spec.space, f"{name}: default {key} is not in the search space"
            assert spec.space[key].contains(value), f"{name}: default {key}={value} outside its range"
    y = Y_CLS if task == "classification" else Y_REG
    est = build_estimator(name, spec.defaults[0], task, ["no", "yes"], n_jobs=1, seed=0)
    weight = np.ones(len(y)) if spec.supports_weights else None
    fit_estimator(est, name, task, X, y, weight)
    out = predict(est, task, X)
    if task == "classification":
        assert out.shape == (len(y), 2)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
        accuracy = np.mean(np.array(["no", "yes"])[out.argmax(axis=1)] == y)
        assert accuracy > 0.7, f"{name} accuracy {accuracy}"
    else:
        assert out.shape == (len(y),)
        assert np.corrcoef(out, y)[0, 1] > 0.5, name


def test_unknown_model_lists_valid_names():
    with pytest.raises(Exception, match="Valid choices: .*LightGBM"):
        REGISTRY.get("LightGMB", "classification")


def test_duplicate_registration_fails_loudly():
    spec = REGISTRY.get("LightGBM", "classification")
    with pytest.raises(ValueError, match="registered twice"):
        REGISTRY.register(spec)


def test_registry_covers_azure_tables():
    azure_clf = {"LogisticRegression", "SGD", "MultinomialNaiveBayes", "BernoulliNaiveBayes", "SVM", "LinearSVM", "KNN",
                 "DecisionTree", "RandomForest", "ExtremeRandomTrees", "LightGBM", "GradientBoosting",
                 "XGBoostClassifier", "AveragedPerceptronClassifier", "LinearSVMClassifier"}
    azure_reg = {"ElasticNet", "GradientBoosting", "DecisionTree", "KNN", "LassoLars", "SGD", "RandomForest",
                 "ExtremeRandomTrees", "LightGBM", "XGBoostRegressor", "FastLinearRegressor",
                 "OnlineGradientDescentRegressor"}
    azure_forecasting = {"Naive", "SeasonalNaive", "Average", "SeasonalAverage", "ExponentialSmoothing", "AutoArima",
                         "Arimax", "Prophet"}  # per-series models; the regression learners also forecast (global)
    beyond_azure = {"CatBoost"}  # the opt-in model of the 'catboost' extra
    assert set(REGISTRY.names("classification")) == azure_clf | beyond_azure
    assert set(REGISTRY.names("regression")) == azure_reg | beyond_azure
    assert set(REGISTRY.names("forecasting")) == azure_forecasting | {"MSTL"}  # MSTL: multi-season, beyond Azure
    # LightGBM, CatBoost, GradientBoosting, DecisionTree, KNN, RandomForest, ExtremeRandomTrees: one spec, two tasks
    shared = 7
    assert len(REGISTRY.to_frame()) == len(ENTRIES) - shared


def test_classifier_wrapper_keeps_all_class_columns_when_fold_lacks_a_class():
    est = build_estimator("LightGBM", {}, "classification", ["a", "b", "c"], n_jobs=1, seed=0)
    y = np.where(X[:, 0] > 0, "a", "b")  # 'c' never seen
    fit_estimator(est, "LightGBM", "classification", X, y, None)
    proba = predict(est, "classification", X)
    assert proba.shape == (len(y), 3) and np.all(proba[:, 2] == 0)


# ----------------------------------------------------------------------------- the contract, per entry
N = 80
COLUMNS = [f"x{i}" for i in range(4)]
FRAME = pd.DataFrame(np.random.default_rng(1).normal(size=(N, 4)), columns=COLUMNS)
FEATURIZER = AutoFeaturizer([ColumnPlan(c, "numeric", mean=0.0, scale=1.0) for c in COLUMNS]).fit()
XF = FEATURIZER.transform(FRAME)  # float32, as trials see it
_noise = np.random.default_rng(2).normal(size=N)
LABELS = {"classification": np.where(XF[:, 0] + 0.5 * _noise > 0, "yes", "no"),
          "regression": 3 * XF[:, 0] - XF[:, 1] + 0.3 * _noise}
CLASSES = ["no", "yes"]
LEARNERS = [(task, spec) for task, spec in ENTRIES if spec.kind == LEARNER]
STATISTICALS = [(task, spec) for task, spec in ENTRIES if spec.kind == STATISTICAL]
_FITTED: dict = {}


def _fresh(task, spec):
    return build_estimator(spec.name, spec.defaults[0], task, CLASSES, n_jobs=1, seed=0)


def _fit(est, task, spec, X=XF, y=None, weight=None):
    return fit_estimator(est, spec.name, task, X, LABELS[task] if y is None else y, weight)


def _fitted(task, spec):
    """One fit per entry on the base data, shared by the tests that only read it."""
    key = (task, spec.name)
    if key not in _FITTED:
        _FITTED[key] = _fit(_fresh(task, spec), task, spec)
    return _FITTED[key]


def test_every_entry_is_covered():
    assert {s.kind for _, s in ENTRIES} == {LEARNER, STATISTICAL}
    assert len(LEARNERS) + len(STATISTICALS) == len(ENTRIES)
    assert {t for t, _ in ENTRIES} == set(TASKS) and len(REGISTRY.to_frame()) == len({id(s) for _, s in ENTRIES})
    for task, spec in STATISTICALS:  # the statistical path takes no weights and has no ONNX graph
        assert task == "forecasting" and not spec.supports_weights and not spec.onnx, spec.name


@pytest.mark.parametrize("task,spec", _params(LEARNERS))
def test_clone_is_unfitted_and_refits_to_the_same_predictions(task, spec):
    fitted = _fitted(task, spec)
    twin = clone(fitted)
    with pytest.raises(NotFittedError):
        check_is_fitted(twin)
    np.testing.assert_array_equal(predict(_fit(twin, task, spec), task, XF), predict(fitted, task, XF))


@pytest.mark.parametrize("task,spec", _params(LEARNERS))
def test_pickle_round_trip_predicts_identically(task, spec):
    fitted = _fitted(task, spec)
    back = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(predict(back, task, XF), predict(fitted, task, XF))


@pytest.mark.parametrize("task,spec", _params(LEARNERS))
def test_same_seed_gives_the_same_predictions_on_two_fresh_fits(task, spec):
    first = predict(_fitted(task, spec), task, XF)
    second = predict(_fit(_fresh(task, spec), task, spec), task, XF)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("task,spec", _params(LEARNERS))
def test_the_generated_constructor_code_rebuilds_the_learner(task, spec):
    """The training code a run generates writes each learner as constructor code with its imports."""
    from spark_automl.export.codegen import _imports, estimator_code

    estimator = _fresh(task, spec)
    namespace: dict = {}
    exec("\n".join(_imports(estimator)) + f"\nbuilt = {estimator_code(estimator)}", namespace)
    np.testing.assert_array_equal(predict(_fit(namespace["built"], task, spec), task, XF),
                                  predict(_fitted(task, spec), task, XF))


@pytest.mark.parametrize("task,spec", _params(LEARNERS))
def test_every_learner_is_saved_in_the_safe_format(task, spec):
    from spark_automl.model_format import SKOPS, choose_format

    chosen = choose_format(_fitted(task, spec), XF)
    assert chosen.name == SKOPS, chosen.why


# Every row twice with conflicting targets ('no' then 'yes'; y then y + 10), the second copy weighted 10x.
# Unweighted, any model predicts about halfway; a model that honours the weights must move towards the
# heavy copy everywhere (P(yes) about 0.91, prediction about y + 9).
X_TWICE = np.vstack([XF, XF])
W_SECOND = np.r_[np.ones(N), np.full(N, 10.0)]
Y_TWICE = {"classification": np.array(["no"] * N + ["yes"] * N),
           "regression": np.r_[LABELS["regression"], LABELS["regression"] + 10.0]}


@pytest.mark.parametrize("task,spec", _params([(t, s) for t, s in ENTRIES if s.supports_weights]))
def test_sample_weights_change_the_fit(task, spec):
    assert spec.kind == LEARNER, f"{spec.name} claims sample weights, but only learners are fit with them"
    unweighted = predict(_fit(_fresh(task, spec), task, spec, X_TWICE, Y_TWICE[task]), task, XF)
    weighted = predict(_fit(_fresh(task, spec), task, spec, X_TWICE, Y_TWICE[task], W_SECOND), task, XF)
    if task == "classification":
        assert weighted[:, 1].mean() > unweighted[:, 1].mean() + 0.2, (unweighted[:, 1].mean(), weighted[:, 1].mean())
    else:
        assert weighted.mean() > unweighted.mean() + 2.0, (unweighted.mean(), weighted.mean())


@pytest.mark.parametrize("task,spec", _params([(t, s) for t, s in ENTRIES if s.onnx]))
def test_onnx_export_matches_onnxruntime(task, spec):
    from spark_automl.export.onnx import check_onnx, to_onnx

    assert spec.kind == LEARNER, f"{spec.name} claims ONNX, but only learners go through to_onnx"
    pipeline = Pipeline([("featurizer", FEATURIZER), ("model", _fitted(task, spec))])
    report = check_onnx(pipeline, to_onnx(pipeline, FRAME.head(5)), FRAME, task)
    assert report["rows"] == N and report["passed"], report


# Statistical forecasters: a monthly series with a trend, a yearly cycle and one known covariate.
_t = np.arange(54)
_x = np.random.default_rng(3).normal(size=54)
SERIES = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2015-01-01", periods=54, freq="MS"),
                       "y": 100 + _t + 10 * np.sin(2 * np.pi * _t / 12) + 3 * _x
                       + np.random.default_rng(4).normal(size=54), "x": _x})
HISTORY, FUTURE = SERIES.iloc[:48], SERIES.iloc[48:].drop(columns="y")


def _forecaster(spec):
    from spark_automl.forecasting.forecasters import StatisticalForecaster

    return StatisticalForecaster(spec.name, "MS", 12, covariates=["x"] if spec.uses_covariates else []).fit(HISTORY)


@pytest.mark.parametrize("task,spec", _params(STATISTICALS))
def test_statistical_forecaster_pickles_and_two_fresh_fits_agree(task, spec):
    first = _forecaster(spec).predict(FUTURE)
    assert len(first) == 6 and first["yhat"].notna().all() and list(first["ds"]) == list(FUTURE["ds"])
    pd.testing.assert_frame_equal(_forecaster(spec).predict(FUTURE), first, check_exact=True)
    back = pickle.loads(pickle.dumps(_forecaster(spec)))  # what the logged model carries
    pd.testing.assert_frame_equal(back.predict(FUTURE), first, check_exact=True)


def test_a_small_fit_of_an_openmp_learner_runs_on_one_thread(monkeypatch):
    """Waking OpenMP threads costs more than a small fit's work (HistGradientBoosting: 2.3 s on one thread,
    50 s on two, for 2,600 wine rows): below threads_from_cells LightGBM and XGBoost get n_jobs=1 and a
    learner without n_jobs fits under an OpenMP limit of one thread; a large fit keeps every thread."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    spec = REGISTRY.get("LightGBM", "classification")
    small, large = spec.threads_from_cells - 1, spec.threads_from_cells
    assert spec.one_thread(small) and not spec.one_thread(large) and not spec.one_thread(None)
    assert not REGISTRY.get("RandomForest", "classification").one_thread(10)  # joblib, not OpenMP
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), np.arange(200) % 2
    built = build_estimator("LightGBM", {"n_estimators": 5}, "classification", [0, 1], 2, 0)
    assert built.estimator.n_jobs == 2
    fit_estimator(built, "LightGBM", "classification", X, y, None)
    assert built.estimator_.n_jobs == 1  # the fit on 600 cells ran on one thread

    seen = threads_seen_by_fit(monkeypatch, HistGradientBoostingClassifier, "openmp")
    before = threads("openmp")
    est = build_estimator("GradientBoosting", {"max_iter": 5}, "classification", [0, 1], 2, 0)
    fit_estimator(est, "GradientBoosting", "classification", X, y, None)
    assert seen == [1] and threads("openmp") == before  # the limit ends with the fit


def test_blas_runs_on_the_learners_own_threads_during_a_fit(monkeypatch):
    """A multi-threaded BLAS on small matrices costs more than it saves (a stack's LogisticRegressionCV:
    20.5 s on two threads, 0.6 s on one): a fit gets the learner's n_jobs of BLAS threads, one when it has
    none, and every thread only when it asks for all cores (n_jobs=-1)."""
    from sklearn.neighbors import KNeighborsClassifier
    from threadpoolctl import threadpool_limits

    seen = threads_seen_by_fit(monkeypatch, KNeighborsClassifier, "blas")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 3)), np.arange(100) % 2
    with threadpool_limits(limits=2, user_api="blas"):  # what a 2-core machine starts with
        for n_jobs in (1, 2, -1):
            est = build_estimator("KNN", {}, "classification", [0, 1], n_jobs, 0)
            fit_estimator(est, "KNN", "classification", X, y, None)
        assert seen == [1, 2, 2] and threads("blas") == 2


@pytest.mark.parametrize("model", ["LinearSVM", "SVM", "AveragedPerceptronClassifier"])
def test_calibrated_margin_classifiers_fit_when_a_class_has_two_rows(model):
    """cv=3 calibration refused a class with two rows in a training fold (wine quality's grade 9), failing
    every such trial: the folds drop to the rarest class's count, and the searched cv=3 stays the param."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.array([0] * 29 + [1] * 29 + [2] * 2)
    est = build_estimator(model, {}, "classification", [0, 1, 2], 1, 0)
    fit_estimator(est, model, "classification", X, y, None)
    proba = est.predict_proba(X)
    assert proba.shape == (60, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert len(est.estimator_.calibrated_classifiers_) == 2 and est.estimator.cv == 3
