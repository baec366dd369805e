"""Charts from real models on sklearn datasets: valid PNGs, the right keys, and the numbers behind them."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from sklearn import calibration
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spark_automl import charts
from spark_automl.charts import charts_for, classification_charts, feature_importance_chart, regression_charts
from spark_automl.errors import ConfigError, DataError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CLASSIFICATION_KEYS = {
    "confusion_matrix.png", "roc_curve.png", "precision_recall_curve.png",
    "calibration_curve.png", "lift_curve.png", "cumulative_gains.png",
}
REGRESSION_KEYS = {"residuals_histogram.png", "predicted_vs_true.png", "residuals_vs_predicted.png"}


def _image(png: bytes) -> np.ndarray:
    """Decode a PNG and check it is a real, non-blank picture."""
    assert png.startswith(PNG_MAGIC)
    image = imread(io.BytesIO(png), format="png")
    assert image.ndim == 3 and image.shape[0] > 0 and image.shape[1] > 0
    assert image[..., :3].std() > 0.01  # something was drawn on the white canvas
    return image


def _check_all(result: dict[str, bytes], keys: set[str]) -> None:
    assert set(result) == keys
    for png in result.values():
        _image(png)


@pytest.fixture(scope="module")
def binary():
    """Breast cancer with string labels; 'malignant' (target 0) is the positive class, the last one."""
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.where(y == 0, "malignant", "benign")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, labels)
    classes = list(model.classes_)
    assert classes == ["benign", "malignant"]
    return labels, model.predict_proba(X), classes


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = LogisticRegression(max_iter=1000).fit(X, labels)
    return labels, model.predict_proba(X), list(model.classes_)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return y, Ridge(alpha=1.0).fit(X, y).predict(X)


@pytest.fixture(scope="module")
def iris_charts(iris):
    """Rendered once; several tests compare against it."""
    return classification_charts(*iris)


# --------------------------------------------------------------------------- classification


def test_binary_charts_are_valid_pngs(binary):
    labels, proba, classes = binary
    _check_all(classification_charts(labels, proba, classes), CLASSIFICATION_KEYS)


def test_multiclass_string_labels(iris_charts):
    _check_all(iris_charts, CLASSIFICATION_KEYS)


def test_bool_and_int_labels_map_to_class_positions(binary):
    labels, proba, _ = binary
    as_bool = labels == "malignant"
    expected = as_bool.astype(int)  # position in classes: False -> 0, True -> 1
    np.testing.assert_array_equal(charts._classification_inputs(as_bool, proba, [False, True], None).y, expected)
    np.testing.assert_array_equal(charts._classification_inputs(expected, proba, [0, 1], None).y, expected)
    missing = labels.astype(object)
    missing[:10] = None  # a missing label is ignored like a NaN prediction
    inputs = charts._classification_inputs(missing, proba, ["benign", "malignant"], None)
    np.testing.assert_array_equal(inputs.y, expected[10:])
    np.testing.assert_array_equal(inputs.proba, proba[10:])


@pytest.mark.filterwarnings("error")
def test_nan_rows_are_ignored(iris, iris_charts):
    """Out-of-fold predictions have NaN rows: the charts equal those of the validated rows alone."""
    labels, proba, classes = iris
    holed = proba.copy()
    holed[::7] = np.nan
    kept = ~np.isnan(holed).any(axis=1)
    with_nan = classification_charts(labels, holed, classes)
    assert set(with_nan) == set(iris_charts)
    assert with_nan == classification_charts(labels[kept], proba[kept], classes)
    assert with_nan != iris_charts  # the dropped rows really changed the charts


def test_all_nan_returns_empty(binary):
    labels, proba, classes = binary
    assert classification_charts(labels, np.full_like(proba, np.nan), classes) == {}
    assert regression_charts([1.0, 2.0], [np.nan, np.nan]) == {}
    assert classification_charts(np.array([], dtype=str), np.empty((0, 2)), classes) == {}


@pytest.mark.filterwarnings("error")
def test_single_class_does_not_raise(binary):
    """Curves cannot be drawn, so they carry a note; the keys stay the same for the caller."""
    labels, proba, classes = binary
    only_benign = labels == "benign"
    _check_all(classification_charts(labels[only_benign], proba[only_benign], classes), CLASSIFICATION_KEYS)
    _check_all(classification_charts(np.array(["a"] * 5), np.ones((5, 1)), ["a"]), CLASSIFICATION_KEYS)


@pytest.mark.filterwarnings("error")
def test_many_classes_plot_micro_average_only():
    """Fifteen classes, one absent from y_true, weighted: no warning, one micro-average curve."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 14, 600)  # class 14 of 15 never occurs
    proba = rng.dirichlet(np.ones(15), 600)
    weights = rng.uniform(0.5, 2.0, 600)
    _check_all(classification_charts(y, proba, list(range(15)), sample_weight=weights), CLASSIFICATION_KEYS)
    inputs = charts._classification_inputs(y, proba, list(range(15)), None)
    assert [s.name for s in charts._series(inputs)] == ["micro-average"]


def test_series_per_class_skip_absent_classes(iris):
    labels, proba, classes = iris
    keep = labels != "versicolor"
    inputs = charts._classification_inputs(labels[keep], proba[keep], classes, None)
    assert [s.name for s in charts._series(inputs)] == ["setosa", "virginica", "micro-average"]
    binary_inputs = charts._classification_inputs(labels[:60], proba[:60, :2], classes[:2], None)
    assert [s.name for s in charts._series(binary_inputs)] == ["versicolor"]  # the positive class, classes[-1]


def test_integer_weights_equal_repeated_rows(binary):
    """A weight of k must chart exactly like k copies of the row."""
    labels, proba, classes = binary
    weights = np.random.default_rng(1).integers(1, 4, len(labels))
    repeated = np.repeat(np.arange(len(labels)), weights)
    weighted = charts._series(charts._classification_inputs(labels, proba, classes, weights))[0]
    copied = charts._series(charts._classification_inputs(labels[repeated], proba[repeated], classes, None))[0]
    np.testing.assert_allclose(charts._gains(weighted), charts._gains(copied), atol=1e-12)
    for a, b in zip(charts._calibration_bins(weighted), charts._calibration_bins(copied)):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_calibration_bins_match_sklearn(binary):
    labels, proba, classes = binary
    series = charts._series(charts._classification_inputs(labels, proba, classes, None))[0]
    mean_score, observed = charts._calibration_bins(series)
    prob_true, prob_pred = calibration.calibration_curve(series.y, series.score, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(observed, prob_true)
    np.testing.assert_allclose(mean_score, prob_pred)


def test_gains_of_perfect_and_reversed_rankers():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    perfect = charts._Series("p", y, np.linspace(1.0, 0.0, 10), np.ones(10))
    gains = charts._gains(perfect)
    assert gains[0] == 0.0 and gains[-1] == 1.0
    assert gains[20] == pytest.approx(1.0)  # the top 20% of rows hold every positive
    assert gains[10] == pytest.approx(0.5)
    reversed_ = charts._Series("r", y, np.linspace(0.0, 1.0, 10), np.ones(10))
    assert charts._gains(reversed_)[80] == pytest.approx(0.0)


def test_unknown_label_and_bad_shape_raise(binary):
    labels, proba, classes = binary
    with pytest.raises(DataError, match="not in classes"):
        classification_charts(labels, proba, ["benign", "other"])
    with pytest.raises(DataError, match="shape"):
        classification_charts(labels, proba[:, :1], classes)


# --------------------------------------------------------------------------- regression


def test_regression_charts(diabetes):
    y, pred = diabetes
    _check_all(regression_charts(y, pred), REGRESSION_KEYS)
    _check_all(regression_charts(y, pred, sample_weight=np.linspace(0.5, 2.0, len(y))), REGRESSION_KEYS)


def test_regression_nan_predictions_ignored(diabetes):
    y, pred = diabetes
    holed = pred.copy()
    holed[::5] = np.nan
    kept = ~np.isnan(holed)
    result = regression_charts(y, holed)
    assert set(result) == REGRESSION_KEYS
    assert result == regression_charts(y[kept], pred[kept])


def test_rendering_from_threads_is_deterministic(diabetes):
    """No pyplot state: concurrent renders give the bytes of a serial render."""
    y, pred = diabetes
    serial = regression_charts(y, pred)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: regression_charts(y, pred), range(2)))
    assert all(result == serial for result in results)


def test_regression_single_row():
    _check_all(regression_charts([3.0], [2.0]), REGRESSION_KEYS)


# --------------------------------------------------------------------------- importance and dispatch


def _bar_widths(png: bytes) -> list[int]:
    """Pixel widths of the blue bars, top to bottom."""
    image = _image(png)[..., :3]
    blue = np.all(np.abs(image - np.array([0.122, 0.467, 0.706])) < 0.05, axis=-1)
    widths = blue.sum(axis=1)
    rows = np.flatnonzero(widths > 0)
    bars = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    return [int(widths[bar].max()) for bar in bars]


def test_feature_importance_top_bars_sorted_largest_on_top(binary):
    X, _ = load_breast_cancer(return_X_y=True, as_frame=True)
    labels, _, _ = binary
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, labels)
    importance = pd.DataFrame({
        "feature": X.columns,
        "importance": np.abs(model[-1].coef_[0]),
        "std": 0.0,
    })
    widths = _bar_widths(feature_importance_chart(importance, top=8))
    assert len(widths) == 8
    assert widths == sorted(widths, reverse=True)
    assert widths[0] > widths[-1]


def test_feature_importance_edge_cases():
    _image(feature_importance_chart(pd.DataFrame({"feature": [], "importance": []})))
    with pytest.raises(DataError, match="importance"):
        feature_importance_chart(pd.DataFrame({"name": ["a"], "gain": [1.0]}))
    with pytest.raises(ConfigError, match="top"):
        feature_importance_chart(pd.DataFrame({"feature": ["a"], "importance": [1.0]}), top=0)


def test_charts_for_dispatches(iris, iris_charts, diabetes):
    labels, proba, classes = iris
    assert charts_for("classification", labels, proba, classes) == iris_charts
    y, pred = diabetes
    assert charts_for("regression", y, pred) == regression_charts(y, pred)
    with pytest.raises(DataError, match="classes"):
        charts_for("classification", labels, proba)


def test_binary_curves_follow_positive_label():
    """The curves draw the class the _binary metrics score (positive_label), not always the last one."""
    y = np.array(["bad", "good", "good", "bad", "good"])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4], [0.1, 0.9]])
    c = charts._classification_inputs(y, proba, ["bad", "good"], None)
    default, = charts._series(c)
    chosen, = charts._series(c, "bad")
    assert default.name == "good" and chosen.name == "bad"
    np.testing.assert_array_equal(chosen.y, (y == "bad").astype(int))
    np.testing.assert_allclose(chosen.score, proba[:, 0])
    assert set(charts_for("classification", y, proba, ["bad", "good"], positive_label="bad")) == CLASSIFICATION_KEYS
