"""ONNX export: one graph from raw columns reproduces the Python pipeline's labels and scores."""

import pytest

pytest.importorskip("onnxruntime", reason="needs the 'onnx' extra")  # the core install has no ONNX stack

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from spark_automl.ensemble.estimators import (  # noqa: E402
    BaggedEstimator,
    StackEnsembleEstimator,
    VotingEnsembleEstimator,
)
from spark_automl.export.onnx import (  # noqa: E402
    MISSING_TOKEN,
    ExportError,
    check_onnx,
    onnx_convertible_purposes,
    onnx_inputs,
    to_onnx,
)
from spark_automl.featurize.transformer import AutoFeaturizer, ColumnPlan  # noqa: E402
from spark_automl.search.trial import build_estimator, fit_estimator  # noqa: E402

N_TRAIN, N_TEST = 800, 200
BINARY, THREE = ["bad", "good"], ["high", "low", "mid"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    n = N_TRAIN + N_TEST
    frame = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x2": rng.normal(3.0, 2.0, size=n),
        "color": rng.choice(["red", "green", "blue"], size=n).astype(object),
        "grade": rng.choice(["A", "B", "C"], size=n).astype(object),
        "level": rng.integers(0, 4, size=n),                       # int-valued categorical
        "rating": rng.choice([1.0, 2.0, 3.0], size=n),             # float-valued categorical
        "id": np.arange(n),                                        # dropped
    })
    frame.loc[rng.random(n) < 0.1, "x1"] = np.nan
    for column in ("color", "grade"):
        frame.loc[rng.random(n) < 0.08, column] = None
    frame.loc[rng.random(n) < 0.08, "rating"] = np.nan
    held_out = np.arange(N_TRAIN, n)
    # Values never seen in training reach the model at predict time only.
    frame.loc[held_out[::7], "color"] = "teal"
    frame.loc[held_out[::9], "grade"] = "Z"
    frame.loc[held_out[::5], "level"] = 4
    score = (np.nan_to_num(frame["x1"]) + 0.5 * frame["x2"] + (frame["color"] == "red") - 0.4 * frame["level"]
             + (frame["grade"] == "A") + rng.normal(0, 0.7, size=n))
    frame["binary"] = np.where(score > 1.2, "good", "bad")
    frame["three"] = np.select([score < 0.5, score < 2.0], ["low", "mid"], "high")
    frame["target"] = 50.0 * score + 1000.0
    train = frame.iloc[:N_TRAIN]
    plans = [
        ColumnPlan("x1", "numeric", mean=float(train["x1"].mean()), scale=float(train["x1"].std()),
                   missing_indicator=True),
        ColumnPlan("x2", "numeric", mean=3.0, scale=2.0),
        ColumnPlan("color", "categorical", vocabulary=["red", "green", "blue"], fill_value="red",
                   missing_indicator=True),
        ColumnPlan("grade", "categorical", vocabulary=["B", "A", "C"], fill_value="A"),  # missing -> "A"
        ColumnPlan("level", "categorical", vocabulary=["0", "1", "2", "3"], fill_value="0"),
        ColumnPlan("rating", "categorical", vocabulary=["1.0", "2.0", "3.0"]),  # missing -> __other__
        ColumnPlan("id", "drop", reason="ID-like"),
    ]
    featurizer = AutoFeaturizer(plans).fit()
    return frame, featurizer, featurizer.transform(train)


def _fit(data, model, task, label, classes=None, params=None):
    frame, featurizer, X = data
    est = build_estimator(model, params or {}, task, classes, n_jobs=1, seed=0)
    fit_estimator(est, model, task, X, frame[label].to_numpy()[:N_TRAIN], None)
    return est


def _pipeline(featurizer, model) -> Pipeline:
    return Pipeline([("featurizer", featurizer), ("model", model)])


def _assert_matches(data, pipeline, task):
    frame = data[0]
    test = frame.iloc[N_TRAIN:]
    model = to_onnx(pipeline, frame.head(20))
    onnx.checker.check_model(model, full_check=True)
    report = check_onnx(pipeline, model, test, task)
    assert report["rows"] == N_TEST and report["label_mismatches"] == 0
    assert report["passed"], report
    out = ort.InferenceSession(model.SerializeToString()).run(None, onnx_inputs(test, model))
    if task == "classification":
        assert [o.name for o in model.graph.output] == ["label", "probabilities"]
        labels, proba = out
        python_proba = pipeline.predict_proba(test)
        assert proba.shape == python_proba.shape == (N_TEST, len(pipeline.classes_))
        np.testing.assert_allclose(proba, python_proba, atol=1e-4)
        clear = np.diff(np.sort(python_proba, axis=1)[:, -2:], axis=1).ravel() > 1e-5
        np.testing.assert_array_equal(labels[clear], pipeline.predict(test)[clear])
        assert clear.mean() > 0.9
    else:
        assert [o.name for o in model.graph.output] == ["variable"]
        np.testing.assert_allclose(out[0].ravel(), pipeline.predict(test), rtol=1e-5, atol=1e-4)
    return model, report


CLASSIFIERS = [
    ("LightGBM", "binary", BINARY, {"n_estimators": 60}),
    ("LightGBM", "three", THREE, {"n_estimators": 60}),
    ("XGBoostClassifier", "binary", BINARY, {"n_estimators": 60, "max_depth": 4}),
    ("XGBoostClassifier", "three", THREE, {"n_estimators": 40, "max_depth": 4}),
    ("RandomForest", "three", THREE, {"n_estimators": 40, "min_samples_leaf": 3}),
    ("LogisticRegression", "binary", BINARY, {"C": 1.0}),
]


@pytest.mark.parametrize("model,label,classes,params", CLASSIFIERS, ids=[f"{m}-{lb}" for m, lb, _, _ in CLASSIFIERS])
def test_classifier_matches_python(data, model, label, classes, params):
    est = _fit(data, model, "classification", label, classes, params)
    _assert_matches(data, _pipeline(data[1], est), "classification")


@pytest.mark.parametrize("model,params", [("LightGBM", {"n_estimators": 80}), ("ElasticNet", {"alpha": 1e-3})])
def test_regressor_matches_python(data, model, params):
    est = _fit(data, model, "regression", "target", params=params)
    _, report = _assert_matches(data, _pipeline(data[1], est), "regression")
    assert report["max_rel_diff"] < 1e-5


def test_integer_labels_with_a_class_absent_from_training(data):
    # Class 9 was declared but never seen: its probability column must be all zeros.
    frame = data[0]
    frame = frame.assign(code=frame["three"].map({"low": 3, "mid": 5, "high": 7}))
    est = _fit((frame, data[1], data[2]), "LogisticRegression", "classification", "code", [3, 5, 7, 9])
    pipeline = _pipeline(data[1], est)
    model, _ = _assert_matches((frame, data[1], data[2]), pipeline, "classification")
    test = frame.iloc[N_TRAIN:]
    labels, proba = ort.InferenceSession(model.SerializeToString()).run(None, onnx_inputs(test, model))
    assert labels.dtype == np.int64 and set(labels) <= {3, 5, 7}
    assert np.all(proba[:, 3] == 0.0)


def test_voting_ensemble_matches_python(data):
    members = [_fit(data, "LightGBM", "classification", "binary", BINARY, {"n_estimators": 40}),
               _fit(data, "LogisticRegression", "classification", "binary", BINARY)]
    voting = VotingEnsembleEstimator(members, names=["LightGBM", "LogisticRegression"], weights=[0.75, 0.25],
                                     classes=BINARY).fit()
    model, _ = _assert_matches(data, _pipeline(data[1], voting), "classification")
    assert "VotingEnsembleEstimator" in {p.key: p.value for p in model.metadata_props}["spark_automl.model"]


def test_regression_voting_ensemble_matches_python(data):
    members = [_fit(data, "LightGBM", "regression", "target", params={"n_estimators": 40}),
               _fit(data, "ElasticNet", "regression", "target", params={"alpha": 1e-3})]
    voting = VotingEnsembleEstimator(members, weights=[0.75, 0.25], task="regression").fit()
    _assert_matches(data, _pipeline(data[1], voting), "regression")


@pytest.mark.parametrize("task,label,classes", [("classification", "three", THREE), ("regression", "target", None)])
def test_a_vote_over_bagged_members_matches_python(data, task, label, classes):
    def bag(model, params):
        folds = [_fit(data, model, task, label, classes, {name: value * grow for name, value in params.items()})
                 for grow in (1, 2, 3)]  # three different fits, as three folds' would be
        return BaggedEstimator.of(folds, model, task, classes)

    lgbm = "LightGBM"
    linear = "LogisticRegression" if task == "classification" else "ElasticNet"
    voting = VotingEnsembleEstimator([bag(lgbm, {"n_estimators": 20}), bag(linear, {})], [lgbm, linear], [0.6, 0.4],
                                     task, classes).fit()
    _assert_matches(data, _pipeline(data[1], voting), task)


def test_graph_inputs_are_the_used_raw_columns(data):
    frame, featurizer, _ = data
    model = to_onnx(_pipeline(featurizer, _fit(data, "LogisticRegression", "classification", "binary", BINARY)),
                    frame.head(5))
    kinds = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert kinds == {"x1": 11, "x2": 11, "color": 8, "grade": 8, "level": 8, "rating": 8}  # DOUBLE=11, STRING=8
    feeds = onnx_inputs(pd.DataFrame({"x1": [None, 2.5], "x2": [1, 2], "color": ["red", None],
                                      "grade": [None, "B"], "level": [4, 0], "rating": [np.nan, 2.0]}), model)
    assert feeds["x1"].dtype == np.float64 and feeds["x1"].shape == (2, 1) and np.isnan(feeds["x1"][0, 0])
    assert feeds["color"].ravel().tolist() == ["red", MISSING_TOKEN]
    assert feeds["level"].ravel().tolist() == ["4", "0"]          # same text as col.astype(str)
    assert feeds["rating"].ravel().tolist() == [MISSING_TOKEN, "2.0"]


@pytest.mark.parametrize("purpose", ["hash", "datetime", "text"])
def test_unconvertible_purpose_names_the_column(data, purpose):
    frame, featurizer, X = data
    extra = ColumnPlan("city", purpose, n_buckets=8)
    bad = AutoFeaturizer(featurizer.plans + [extra]).fit()
    est = _fit(data, "LogisticRegression", "classification", "binary", BINARY)
    with pytest.raises(ExportError, match=rf"'city' \({purpose}\).*onnx_compatible"):
        to_onnx(_pipeline(bad, est), frame.assign(city="x").head(5))
    assert purpose not in onnx_convertible_purposes() and "categorical" in onnx_convertible_purposes()


def test_off_mode_nan_passthrough_odd_names_and_bool_labels():
    # featurization='off' hands NaN to the model; raw names with spaces and dots stay the input names.
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"credit amount": rng.normal(size=600), "a.b/c": rng.choice(["x", "y"], size=600)})
    frame.loc[rng.random(600) < 0.2, "credit amount"] = np.nan
    y = np.nan_to_num(frame["credit amount"].to_numpy(), nan=1.0) + (frame["a.b/c"] == "x") > 0.5
    featurizer = AutoFeaturizer([ColumnPlan("credit amount", "numeric", fill_value=float("nan")),
                                 ColumnPlan("a.b/c", "categorical", vocabulary=["x"])]).fit()
    X = featurizer.transform(frame.iloc[:400])
    lgbm = build_estimator("LightGBM", {"n_estimators": 30}, "classification", [False, True], n_jobs=1, seed=0)
    pipeline = _pipeline(featurizer, lgbm.fit(X, y[:400]))
    model = to_onnx(pipeline, frame.head(5))
    assert [i.name for i in model.graph.input] == ["credit amount", "a.b/c"]
    assert check_onnx(pipeline, model, frame.iloc[400:], "classification")["passed"]
    labels, _ = ort.InferenceSession(model.SerializeToString()).run(None, onnx_inputs(frame.iloc[400:], model))
    assert labels.dtype == np.bool_
    forest = build_estimator("RandomForest", {"n_estimators": 10}, "classification", [False, True], n_jobs=1, seed=0)
    with pytest.raises(ExportError, match=r"\['credit amount'\] pass missing values to RandomForestClassifier"):
        to_onnx(_pipeline(featurizer, forest.fit(X, y[:400])), frame.head(5))


def test_inexact_models_are_refused(data):
    frame, featurizer, _ = data
    knn = _fit(data, "KNN", "classification", "binary", BINARY, {"n_neighbors": 5, "weights": "distance"})
    with pytest.raises(ExportError, match=r"KNeighborsClassifier\(weights='distance'\)"):
        to_onnx(_pipeline(featurizer, knn), frame.head(5))
    with pytest.raises(ExportError, match="StackEnsemble"):
        to_onnx(_pipeline(featurizer, StackEnsembleEstimator([knn], classes=BINARY).fit()), frame.head(5))


def test_build_plan_onnx_compatible_exports_end_to_end(spark):
    from spark_automl.data.profile import profile
    from spark_automl.featurize.plan import MAX_ONE_HOT, build_plan

    rng = np.random.default_rng(3)
    n = 150
    pdf = pd.DataFrame({
        "num": rng.normal(size=n),
        "city": [f"c{i % 70}" for i in range(n)],                                 # 70 values: hashed by default
        "when": pd.date_range("2021-01-01", periods=n, freq="17h"),
        "note": [f"customer comment number {i} about the loan" for i in range(n)],  # free text
        "y": rng.choice(["no", "yes"], size=n),
    })
    df = spark.createDataFrame(pdf)
    prof = profile(df, "y", classification=True)
    features = ["num", "city", "when", "note"]
    default = {p.name: p.purpose for p in build_plan(df, prof, features, "auto").columns}
    assert default == {"num": "numeric", "city": "hash", "when": "datetime", "note": "text"}

    plan = build_plan(df, prof, features, "auto", onnx_compatible=True)
    by_name = {p.name: p for p in plan.columns}
    assert {k: p.purpose for k, p in by_name.items()} == {"num": "numeric", "city": "categorical",
                                                        "when": "drop", "note": "drop"}
    assert by_name["when"].reason == "dropped: not ONNX-convertible (datetime)"
    assert by_name["note"].reason == "dropped: not ONNX-convertible (text)"
    city = by_name["city"]
    assert len(city.vocabulary) == MAX_ONE_HOT and city.vocabulary[:10] == [f"c{i}" for i in range(10)]
    assert "ONNX" in city.reason

    featurizer = plan.featurizer()
    est = build_estimator("LightGBM", {"n_estimators": 20, "min_child_samples": 5}, "classification", ["no", "yes"],
                          n_jobs=1, seed=0)
    est.fit(featurizer.transform(pdf), pdf["y"].to_numpy())
    pipeline = _pipeline(featurizer, est)
    model = to_onnx(pipeline, pdf.head(5))
    assert [i.name for i in model.graph.input] == ["num", "city"]
    with_missing = pdf.assign(city=pdf["city"].where(pdf.index % 10 > 0))  # None -> the fill value slot, in both
    assert check_onnx(pipeline, model, with_missing, "classification")["passed"]
