"""Metric values against hand computations and independent sklearn calls."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from spark_automl.errors import ConfigError, DataError
from spark_automl.metrics import (
    METRICS,
    MetricSpec,
    classification_metrics,
    compute_metrics,
    default_primary_metric,
    metric_names,
    primary_metric_names,
    regression_metrics,
    to_loss,
)

CLASSIFICATION_NAMES = {
    "AUC_binary", "AUC_macro", "AUC_micro", "AUC_weighted", "accuracy", "weighted_accuracy",
    "balanced_accuracy", "norm_macro_recall", "log_loss", "matthews_correlation",
    *(f"{m}_{a}" for m in ("f1_score", "precision_score", "recall_score", "average_precision_score")
      for a in ("binary", "micro", "macro", "weighted")),
}
REGRESSION_NAMES = {
    "explained_variance", "r2_score", "spearman_correlation", "mean_absolute_error",
    "median_absolute_error", "root_mean_squared_error", "root_mean_squared_log_error",
    "mean_absolute_percentage_error", "normalized_mean_absolute_error",
    "normalized_median_absolute_error", "normalized_root_mean_squared_error",
    "normalized_root_mean_squared_log_error",
}


def _onehot_proba(idx, n_classes, confidence=0.9):
    """Probabilities whose argmax is idx, rows summing to 1."""
    p = np.full((len(idx), n_classes), (1 - confidence) / (n_classes - 1))
    p[np.arange(len(idx)), idx] = confidence
    return p


# ------------------------------------------------------------------ registry & names


def test_registry_covers_azure_names_exactly():
    assert set(metric_names("classification")) == CLASSIFICATION_NAMES
    assert set(metric_names("regression")) == REGRESSION_NAMES
    assert metric_names("forecasting") == metric_names("regression")
    assert set(METRICS) == CLASSIFICATION_NAMES | REGRESSION_NAMES  # custom metrics never join this table
    assert all(isinstance(s, MetricSpec) and s.name == n for n, s in METRICS.items())


def test_primary_metric_lists_match_azure():
    assert primary_metric_names("classification") == [
        "accuracy", "AUC_weighted", "norm_macro_recall",
        "average_precision_score_weighted", "precision_score_weighted",
    ]
    assert primary_metric_names("regression") == [
        "spearman_correlation", "normalized_root_mean_squared_error", "r2_score",
        "normalized_mean_absolute_error",
    ]
    assert primary_metric_names("forecasting") == [
        "normalized_root_mean_squared_error", "r2_score", "normalized_mean_absolute_error",
    ]
    for task in ("classification", "regression"):
        flagged = {n for n in metric_names(task) if METRICS[n].primary_allowed}
        assert flagged == set(primary_metric_names(task))


def test_default_primary_metric():
    assert default_primary_metric("classification") == "accuracy"
    assert default_primary_metric("regression") == "normalized_root_mean_squared_error"
    assert default_primary_metric("forecasting") == "normalized_root_mean_squared_error"


def test_directions():
    lower = {"log_loss"} | {n for n in REGRESSION_NAMES if "error" in n}
    for name, spec in METRICS.items():
        assert spec.greater_is_better is (name not in lower), name


def test_to_loss_flips_direction_and_maps_nan_to_inf():
    assert to_loss("accuracy", 0.8) == -0.8
    assert to_loss("normalized_root_mean_squared_error", 0.2) == 0.2
    assert to_loss("log_loss", 0.3) == 0.3
    assert to_loss("AUC_weighted", float("nan")) == math.inf
    assert to_loss("r2_score", float("nan")) == math.inf
    # a better score is always a smaller loss
    assert to_loss("accuracy", 0.9) < to_loss("accuracy", 0.8)
    assert to_loss("mean_absolute_error", 1.0) < to_loss("mean_absolute_error", 2.0)


def test_unknown_task_and_metric_raise_config_error():
    with pytest.raises(ConfigError, match="task"):
        metric_names("clustering")
    with pytest.raises(ConfigError, match="metric"):
        to_loss("accuracyy", 1.0)


# -------------------------------------------------------------------- classification


def test_perfect_binary_predictions():
    y = np.array([0, 1, 1, 0, 1])
    m = classification_metrics(y, _onehot_proba(y, 2), classes=[0, 1])
    assert set(m) == CLASSIFICATION_NAMES
    for name in CLASSIFICATION_NAMES - {"log_loss"}:
        assert m[name] == pytest.approx(1.0), name
    assert m["log_loss"] == pytest.approx(-math.log(0.9))
    assert all(type(v) is float for v in m.values())


def test_binary_values_match_sklearn():
    y = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    p1 = np.array([0.2, 0.7, 0.4, 0.6, 0.9, 0.1, 0.55, 0.3])
    proba = np.column_stack([1 - p1, p1])
    pred = (p1 > 0.5).astype(int)
    m = classification_metrics(y, proba, classes=[0, 1])
    auc = skm.roc_auc_score(y, p1)
    assert m["AUC_binary"] == pytest.approx(auc)
    assert m["AUC_macro"] == pytest.approx(auc)
    assert m["AUC_weighted"] == pytest.approx(auc)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["f1_score_binary"] == pytest.approx(skm.f1_score(y, pred))
    assert m["precision_score_binary"] == pytest.approx(skm.precision_score(y, pred))
    assert m["recall_score_binary"] == pytest.approx(skm.recall_score(y, pred))
    assert m["average_precision_score_binary"] == pytest.approx(skm.average_precision_score(y, p1))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert m["matthews_correlation"] == pytest.approx(skm.matthews_corrcoef(y, pred))
    assert m["f1_score_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))


def test_string_labels_and_positive_label():
    classes = ["<=50K", ">50K"]
    y = np.array(["<=50K", ">50K", ">50K", "<=50K", "<=50K", "<=50K"], dtype=object)
    p_pos = np.array([0.1, 0.8, 0.3, 0.6, 0.2, 0.4])
    proba = np.column_stack([1 - p_pos, p_pos])
    y01 = (y == ">50K").astype(int)
    pred01 = (p_pos > 0.5).astype(int)

    m = classification_metrics(y, proba, classes=classes)  # positive = classes[-1] = ">50K"
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["recall_score_binary"] == pytest.approx(skm.recall_score(y01, pred01))  # 1/2
    assert m["precision_score_binary"] == pytest.approx(skm.precision_score(y01, pred01))  # 1/2
    assert m["AUC_binary"] == pytest.approx(skm.roc_auc_score(y01, p_pos))

    flipped = classification_metrics(y, proba, classes=classes, positive_label="<=50K")
    assert flipped["recall_score_binary"] == pytest.approx(skm.recall_score(1 - y01, 1 - pred01))  # 3/4
    assert flipped["AUC_binary"] == pytest.approx(m["AUC_binary"])
    assert flipped["accuracy"] == m["accuracy"]


def test_multiclass_binary_metrics_are_nan_and_others_match_sklearn():
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    pred = np.array([0, 2, 2, 2, 1, 0, 1])
    proba = _onehot_proba(pred, 3, confidence=0.6)
    m = classification_metrics(y, proba, classes=[0, 1, 2])
    for name in CLASSIFICATION_NAMES:
        if name.endswith("_binary"):
            assert math.isnan(m[name]), name
        else:
            assert math.isfinite(m[name]), name
    onehot = np.eye(3)[y]
    for avg in ("micro", "macro", "weighted"):
        assert m[f"AUC_{avg}"] == pytest.approx(skm.roc_auc_score(onehot, proba, average=avg))
        assert m[f"precision_score_{avg}"] == pytest.approx(skm.precision_score(y, pred, average=avg))
        assert m[f"recall_score_{avg}"] == pytest.approx(skm.recall_score(y, pred, average=avg))
        assert m[f"f1_score_{avg}"] == pytest.approx(skm.f1_score(y, pred, average=avg))
        assert m[f"average_precision_score_{avg}"] == pytest.approx(
            skm.average_precision_score(onehot, proba, average=avg)
        )
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba))


def test_norm_macro_recall_hand_example():
    # recalls: class a 2/2, class b 1/2, class c 0/1 -> macro 1/2; R = 1/3 -> (1/2 - 1/3)/(2/3) = 1/4
    y = np.array(["a", "a", "b", "b", "c"])
    pred_idx = np.array([0, 0, 1, 0, 0])
    m = classification_metrics(y, _onehot_proba(pred_idx, 3), classes=["a", "b", "c"])
    assert m["recall_score_macro"] == pytest.approx(0.5)
    assert m["norm_macro_recall"] == pytest.approx(0.25)
    # binary: R = 1/2; recalls 1 and 0 -> macro 1/2 -> 0 (chance level), not clipped when below
    y2 = np.array([0, 0, 1, 1])
    worse = classification_metrics(y2, _onehot_proba(np.array([1, 1, 0, 0]), 2), classes=[0, 1])
    assert worse["norm_macro_recall"] == pytest.approx(-1.0)


def test_weighted_accuracy_weights_samples_by_class_size():
    # class 0 has 3 samples (all right), class 1 has 1 sample (wrong):
    # weights 3,3,3,1 -> 9/10, while plain accuracy is 3/4
    y = np.array([0, 0, 0, 1])
    pred = np.array([0, 0, 0, 0])
    m = classification_metrics(y, _onehot_proba(pred, 2), classes=[0, 1])
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["weighted_accuracy"] == pytest.approx(0.9)


def test_sample_weight_changes_results_and_is_passed_through():
    y = np.array([0, 1, 1, 0, 1, 0])
    p1 = np.array([0.3, 0.8, 0.2, 0.7, 0.6, 0.1])
    proba = np.column_stack([1 - p1, p1])
    pred = (p1 > 0.5).astype(int)
    w = np.array([1.0, 1.0, 5.0, 1.0, 1.0, 3.0])
    plain = classification_metrics(y, proba, [0, 1])
    weighted = classification_metrics(y, proba, [0, 1], sample_weight=w)
    assert plain["accuracy"] == pytest.approx(4 / 6)
    assert weighted["accuracy"] == pytest.approx(skm.accuracy_score(y, pred, sample_weight=w))  # 6/12
    assert weighted["accuracy"] != pytest.approx(plain["accuracy"])
    assert weighted["AUC_weighted"] == pytest.approx(skm.roc_auc_score(y, p1, sample_weight=w))
    assert weighted["log_loss"] == pytest.approx(skm.log_loss(y, proba, sample_weight=w))
    assert weighted["f1_score_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro", sample_weight=w))
    # uniform weights equal no weights
    same = classification_metrics(y, proba, [0, 1], sample_weight=np.full(6, 2.0))
    for name in CLASSIFICATION_NAMES:
        assert same[name] == pytest.approx(plain[name]), name


def test_class_absent_from_y_true_gives_finite_auc():
    y = np.array([0, 1, 0, 1, 0])  # class 2 missing from this fold
    proba = np.array([
        [0.7, 0.2, 0.1],
        [0.2, 0.6, 0.2],
        [0.5, 0.1, 0.4],
        [0.1, 0.3, 0.6],
        [0.6, 0.3, 0.1],
    ])
    m = classification_metrics(y, proba, classes=[0, 1, 2])
    for name in ("AUC_macro", "AUC_weighted", "AUC_micro", "average_precision_score_weighted", "log_loss"):
        assert math.isfinite(m[name]), name
    onehot = np.eye(3)[y][:, :2]
    assert m["AUC_weighted"] == pytest.approx(skm.roc_auc_score(onehot, proba[:, :2], average="weighted"))
    assert m["AUC_micro"] == pytest.approx(skm.roc_auc_score(np.eye(3)[y], proba, average="micro"))


def test_single_class_present_gives_nan_auc_not_crash():
    y = np.array([1, 1, 1])
    m = classification_metrics(y, _onehot_proba(np.array([1, 0, 1]), 2), classes=[0, 1])
    assert math.isnan(m["AUC_binary"]) and math.isnan(m["AUC_weighted"]) and math.isnan(m["AUC_micro"])
    assert m["accuracy"] == pytest.approx(2 / 3)


def test_bad_classification_inputs_raise_data_error():
    with pytest.raises(DataError, match="not in classes"):
        classification_metrics(np.array([0, 3]), _onehot_proba(np.array([0, 1]), 2), classes=[0, 1])
    with pytest.raises(DataError, match="shape"):
        classification_metrics(np.array([0, 1]), np.ones((2, 3)) / 3, classes=[0, 1])
    with pytest.raises(DataError, match="positive_label"):
        classification_metrics(np.array([0, 1]), _onehot_proba(np.array([0, 1]), 2), [0, 1], positive_label=7)


def test_one_failing_metric_yields_nan(monkeypatch):
    import spark_automl.metrics as metrics_mod

    def boom(_inputs):
        raise RuntimeError("broken metric")

    spec = metrics_mod.METRICS["matthews_correlation"]
    monkeypatch.setitem(metrics_mod.METRICS, "matthews_correlation", MetricSpec(
        spec.name, spec.task, spec.greater_is_better, spec.primary_allowed, boom))
    y = np.array([0, 1])
    m = classification_metrics(y, _onehot_proba(y, 2), [0, 1])
    assert math.isnan(m["matthews_correlation"])
    assert m["accuracy"] == 1.0


# ------------------------------------------------------------------------ regression


def test_perfect_regression():
    y = np.array([1.0, 2.0, 3.0, 5.0])
    m = regression_metrics(y, y.copy())
    assert set(m) == REGRESSION_NAMES
    assert all(type(v) is float for v in m.values())
    for name in REGRESSION_NAMES:
        expected = 0.0 if "error" in name else 1.0
        assert m[name] == pytest.approx(expected), name


def test_regression_values_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.0, 2.5, 5.0])
    m = regression_metrics(y, p)
    # errors: 0.5, 0, 0.5, 1 ; squared: .25, 0, .25, 1 -> mse 0.375 ; y range 3
    assert m["mean_absolute_error"] == pytest.approx(0.5)
    assert m["median_absolute_error"] == pytest.approx(0.5)
    assert m["root_mean_squared_error"] == pytest.approx(math.sqrt(0.375))
    assert m["normalized_mean_absolute_error"] == pytest.approx(0.5 / 3)
    assert m["normalized_median_absolute_error"] == pytest.approx(0.5 / 3)
    assert m["normalized_root_mean_squared_error"] == pytest.approx(math.sqrt(0.375) / 3)
    # percentage: 50%, 0%, 16.67%, 25% -> mean 22.916...
    assert m["mean_absolute_percentage_error"] == pytest.approx(100 * (0.5 + 0 + 0.5 / 3 + 0.25) / 4)
    assert m["r2_score"] == pytest.approx(skm.r2_score(y, p))  # 1 - 1.5/5 = 0.7
    assert m["r2_score"] == pytest.approx(0.7)
    assert m["explained_variance"] == pytest.approx(skm.explained_variance_score(y, p))
    assert m["spearman_correlation"] == pytest.approx(stats.spearmanr(y, p).statistic)
    rmsle = math.sqrt(np.mean((np.log1p(y) - np.log1p(p)) ** 2))
    assert m["root_mean_squared_log_error"] == pytest.approx(rmsle)
    assert m["normalized_root_mean_squared_log_error"] == pytest.approx(rmsle / (math.log1p(4) - math.log1p(1)))


def test_y_range_from_training_is_used_for_normalisation():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = y + 1.0
    assert regression_metrics(y, p, y_range=10.0)["normalized_mean_absolute_error"] == pytest.approx(0.1)
    assert regression_metrics(y, p)["normalized_mean_absolute_error"] == pytest.approx(1 / 3)
    # constant target: zero range normalises by 1 instead of dividing by zero
    const = regression_metrics(np.full(3, 2.0), np.array([2.0, 3.0, 1.0]))
    assert const["normalized_mean_absolute_error"] == pytest.approx(2 / 3)
    assert math.isnan(const["spearman_correlation"])


def test_mape_ignores_zero_targets_and_rmsle_nan_for_negative_targets():
    m = regression_metrics(np.array([0.0, 2.0, 4.0]), np.array([5.0, 1.0, 5.0]))
    assert m["mean_absolute_percentage_error"] == pytest.approx(100 * (0.5 + 0.25) / 2)
    neg = regression_metrics(np.array([-1.0, 2.0, 3.0]), np.array([0.0, 2.0, 3.0]))
    assert math.isnan(neg["root_mean_squared_log_error"])
    assert math.isnan(neg["normalized_root_mean_squared_log_error"])
    assert neg["mean_absolute_error"] == pytest.approx(1 / 3)
    # negative predictions are clipped to 0 when targets are non-negative
    clipped = regression_metrics(np.array([0.0, 1.0]), np.array([-3.0, 1.0]))
    assert clipped["root_mean_squared_log_error"] == pytest.approx(0.0)


def test_regression_sample_weight():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 2.0, 3.0, 8.0])
    w = np.array([1.0, 1.0, 1.0, 5.0])
    plain = regression_metrics(y, p)
    weighted = regression_metrics(y, p, sample_weight=w)
    assert plain["mean_absolute_error"] == pytest.approx(1.0)
    assert weighted["mean_absolute_error"] == pytest.approx(20 / 8)
    assert weighted["r2_score"] == pytest.approx(skm.r2_score(y, p, sample_weight=w))
    assert weighted["median_absolute_error"] == pytest.approx(skm.median_absolute_error(y, p, sample_weight=w))
    assert weighted["mean_absolute_percentage_error"] == pytest.approx(100 * 5 * 1.0 / 8)


# ---------------------------------------------------------------------- dispatch


def test_compute_metrics_dispatches_by_task():
    y = np.array([0, 1, 1])
    proba = _onehot_proba(y, 2)
    assert compute_metrics("classification", y, proba, classes=[0, 1]) == classification_metrics(y, proba, [0, 1])
    yr = np.array([1.0, 2.0, 4.0])
    pr = np.array([1.0, 2.5, 3.0])
    reg = compute_metrics("regression", yr, pr, y_range=6.0)
    assert reg == regression_metrics(yr, pr, y_range=6.0)
    assert compute_metrics("forecasting", yr, pr, y_range=6.0) == reg
    assert set(reg) == set(metric_names("forecasting"))
    with pytest.raises(DataError, match="classes"):
        compute_metrics("classification", y, proba)
    with pytest.raises(ConfigError):
        compute_metrics("ranking", y, proba)


def test_custom_metric_sees_labels_probabilities_and_weights(monkeypatch):
    import spark_automl.metrics as metrics_mod
    from spark_automl.metrics import CustomMetric, compute_metrics, register_metric

    monkeypatch.setattr(metrics_mod, "CUSTOM_METRICS", {})  # registrations end with the test

    seen = {}

    def weighted_hits(y_true, y_pred, sample_weight=None):
        seen["labels"], seen["weight"] = list(y_pred), sample_weight
        return float(((y_true == y_pred) * (1 if sample_weight is None else sample_weight)).sum())

    register_metric(CustomMetric("weighted_hits", weighted_hits, task="classification"))
    register_metric(CustomMetric("pos_proba_sum", lambda y, p: float(p.sum()), needs_proba=True,
                                 task="classification"))
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    out = compute_metrics("classification", np.array(["no", "yes", "no"]), proba, classes=["no", "yes"],
                          sample_weight=np.array([1.0, 2.0, 5.0]), also=("weighted_hits", "pos_proba_sum"))
    assert "weighted_hits" not in compute_metrics("classification", np.array(["no"]), proba[:1], ["no", "yes"])
    assert seen["labels"] == ["no", "yes", "yes"] and out["weighted_hits"] == 3.0
    assert out["pos_proba_sum"] == pytest.approx(1.5)
    register_metric(CustomMetric("max_err", lambda y, p: float(np.abs(y - p).max()), greater_is_better=False,
                                 task="regression"))
    reg = compute_metrics("regression", np.array([1.0, 2.0]), np.array([1.5, 4.0]), also=("max_err",))
    assert reg["max_err"] == 2.0 and to_loss("max_err", 2.0) == 2.0
    broken = CustomMetric("broken_metric", lambda y, p: 1 / 0, task="regression")
    register_metric(broken)
    assert np.isnan(compute_metrics("regression", np.array([1.0]), np.array([1.0]), also=("broken_metric",))[
        "broken_metric"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rank_based_auc_equals_sklearn_with_ties_and_weights(seed):
    """The fast AUC (ensemble selection's hot loop) must be sklearn's number, ties and weights included."""
    rng = np.random.default_rng(seed)
    n, k = 400, 4
    y = rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), size=n).round(2)  # rounding makes many ties
    w = rng.uniform(0.1, 3.0, n)
    onehot = np.eye(k)[y]
    for weight in (None, w):
        m = compute_metrics("classification", y, proba, classes=list(range(k)), sample_weight=weight)
        for avg in ("macro", "weighted", "micro"):
            assert m[f"AUC_{avg}"] == pytest.approx(
                skm.roc_auc_score(onehot, proba, average=avg, sample_weight=weight), abs=1e-12)
        binary = compute_metrics("classification", y % 2, proba[:, :2], classes=[0, 1], sample_weight=weight)
        assert binary["AUC_binary"] == pytest.approx(
            skm.roc_auc_score(y % 2, proba[:, 1], sample_weight=weight), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_label_metrics_and_average_precision_equal_sklearn(seed):
    """Every label-based metric is read off one confusion matrix, average precision off one sort (cross-validation scores each fold, so a
    trial computes them k times); each must stay scikit-learn's number: weights, classes absent from
    y_true, classes only predicted, and a positive label that is not the last class included."""
    rng = np.random.default_rng(seed)
    k = [2, 2, 3, 4, 5, 3][seed]
    n = [7, 300, 50, 400, 120, 9][seed]
    y = rng.integers(0, k - (seed % 2), n)  # odd seeds: the last class never occurs in y_true
    proba = rng.dirichlet(np.full(k, 0.5), size=n).round(1)  # rounding: tied scores
    proba = (proba + 1e-3) / (proba + 1e-3).sum(axis=1, keepdims=True)
    weight = None if seed % 3 == 0 else rng.uniform(0.1, 3.0, n)
    positive = 0 if k == 2 and seed == 1 else None
    m = compute_metrics("classification", y, proba, classes=list(range(k)), sample_weight=weight,
                        positive_label=positive)
    pred = proba.argmax(axis=1)
    sk = {"accuracy": skm.accuracy_score(y, pred, sample_weight=weight),
          "balanced_accuracy": skm.balanced_accuracy_score(y, pred, sample_weight=weight),
          "matthews_correlation": skm.matthews_corrcoef(y, pred, sample_weight=weight),
          "log_loss": skm.log_loss(y, proba, labels=list(range(k)), sample_weight=weight)}
    for name, fn in (("f1_score", skm.f1_score), ("precision_score", skm.precision_score),
                     ("recall_score", skm.recall_score)):
        for avg in ("micro", "macro", "weighted"):
            sk[f"{name}_{avg}"] = fn(y, pred, average=avg, zero_division=0, sample_weight=weight)
        if k == 2:
            pos = 1 if positive is None else positive
            sk[f"{name}_binary"] = fn(y, pred, pos_label=pos, average="binary", zero_division=0, sample_weight=weight)
    recall = skm.recall_score(y, pred, average="macro", zero_division=0, sample_weight=weight)
    sk["norm_macro_recall"] = (recall - 1 / k) / (1 - 1 / k)
    base = np.ones(n) if weight is None else weight
    sk["weighted_accuracy"] = skm.accuracy_score(y, pred, sample_weight=base * np.bincount(y, base, k)[y])
    onehot = np.eye(k)[y]
    present = np.flatnonzero(onehot.sum(axis=0) > 0)
    for avg in ("micro", "macro", "weighted"):
        cols = np.arange(k) if avg == "micro" else present
        sk[f"average_precision_score_{avg}"] = skm.average_precision_score(onehot[:, cols], proba[:, cols],
                                                                           average=avg, sample_weight=weight)
    if k == 2:
        pos = 1 if positive is None else positive
        sk["average_precision_score_binary"] = skm.average_precision_score(y == pos, proba[:, pos],
                                                                           sample_weight=weight)
    for name, expected in sk.items():
        assert m[name] == pytest.approx(expected, abs=1e-12), name
