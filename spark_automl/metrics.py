"""Azure AutoML (SDK v1) scalar metrics, declared once in a registry.

Every metric is a :class:`MetricSpec` in :data:`METRICS`; the compute functions,
the list of names per task, the allowed primary metrics and the optimisation
direction are all read from that one table, so adding a metric is one row and
no code path can forget it. Metric semantics follow ``azureml-metrics``:

* classification metrics work in "class index" space (positions in ``classes``),
  so any label dtype (ints, floats, strings such as ``">50K"``) behaves the same;
* ``_binary`` metrics use ``positive_label`` (default: ``classes[-1]``) and are NaN
  for problems with more than two classes;
* one-vs-rest metrics (AUC, average precision) skip classes absent from
  ``y_true`` for macro/weighted averaging, so a rare class missing from a fold
  never crashes a trial;
* ``normalized_*`` regression metrics divide by the range of the *training*
  target when the caller passes it, as Azure does;
* one failing metric yields NaN instead of losing the whole dictionary.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import metrics as skm

from .errors import ConfigError, DataError

__all__ = [
    "CustomMetric",
    "register_metric",
    "MetricSpec",
    "METRICS",
    "metric_names",
    "primary_metric_names",
    "default_primary_metric",
    "to_loss",
    "classification_metrics",
    "regression_metrics",
    "compute_metrics",
]

CLASSIFICATION = "classification"
REGRESSION = "regression"
FORECASTING = "forecasting"

# Forecasting is scored with the regression metrics (Azure adds only non-scalar
# and forecast_* horizon metrics on top), so tasks map onto a metric family.
_TASK_FAMILY: Mapping[str, str] = {
    CLASSIFICATION: CLASSIFICATION,
    REGRESSION: REGRESSION,
    FORECASTING: REGRESSION,
}

# Azure's allowed primary metrics, in Azure's documented order.
_PRIMARY: Mapping[str, tuple[str, ...]] = {
    CLASSIFICATION: (
        "accuracy",
        "AUC_weighted",
        "norm_macro_recall",
        "average_precision_score_weighted",
        "precision_score_weighted",
    ),
    REGRESSION: (
        "spearman_correlation",
        "normalized_root_mean_squared_error",
        "r2_score",
        "normalized_mean_absolute_error",
    ),
    FORECASTING: (
        "normalized_root_mean_squared_error",
        "r2_score",
        "normalized_mean_absolute_error",
    ),
}

_DEFAULT_PRIMARY: Mapping[str, str] = {
    CLASSIFICATION: "accuracy",
    REGRESSION: "normalized_root_mean_squared_error",
    FORECASTING: "normalized_root_mean_squared_error",
}

_AVERAGES = ("micro", "macro", "weighted")
_PROBA_EPS = 1e-15
_NAN = float("nan")


@dataclass(frozen=True)
class MetricSpec:
    """One scalar metric: its Azure name, task family, direction and how to compute it.

    ``fn`` takes the prepared inputs of its family (``_ClassificationInputs`` or
    ``_RegressionInputs``) so shared work such as one-hot encoding happens once.
    """

    name: str
    task: str
    greater_is_better: bool
    primary_allowed: bool
    fn: Callable[..., float]


# --------------------------------------------------------------------------- inputs


class _ClassificationInputs:
    """Labels mapped to class indices, plus lazily derived views shared by metrics."""

    def __init__(
        self,
        y_true: Any,
        proba: Any,
        classes: Sequence,
        sample_weight: Any = None,
        positive_label: Any = None,
    ) -> None:
        class_index = pd.Index(list(classes))
        if len(class_index) == 0:
            raise DataError("classes is empty; pass the class labels in the column order of the probabilities.")
        if not class_index.is_unique:
            raise DataError(f"classes must be unique, got {list(classes)!r}.")
        proba = np.asarray(proba, dtype=float)
        y_arr = np.asarray(y_true).ravel()
        if proba.ndim != 2 or proba.shape != (len(y_arr), len(class_index)):
            raise DataError(
                f"proba must have shape (n_samples, n_classes) = ({len(y_arr)}, {len(class_index)}), "
                f"got {proba.shape}."
            )
        y_idx = class_index.get_indexer(y_arr)
        if (y_idx < 0).any():
            unknown = sorted({repr(v) for v in y_arr[y_idx < 0]})[:5]
            raise DataError(f"y_true has labels not in classes {list(classes)!r}: {', '.join(unknown)}.")
        if positive_label is None:
            pos = len(class_index) - 1
        else:
            found = class_index.get_indexer([positive_label])[0]
            if found < 0:
                raise DataError(f"positive_label {positive_label!r} is not one of classes {list(classes)!r}.")
            pos = int(found)

        self.n_classes = len(class_index)
        self.labels = class_index.to_numpy()
        self.y = y_idx.astype(int)
        self.proba = proba
        self.pred = proba.argmax(axis=1) if len(y_arr) else np.zeros(0, dtype=int)
        self.sample_weight = _as_weight(sample_weight, len(y_arr))
        self.pos = pos

    @cached_property
    def onehot(self) -> np.ndarray:
        return np.eye(self.n_classes, dtype=int)[self.y]

    @cached_property
    def present(self) -> np.ndarray:
        """Column indices of classes that occur in y_true (one-vs-rest is undefined for the others)."""
        return np.flatnonzero(np.bincount(self.y, minlength=self.n_classes) > 0)

    @property
    def is_binary(self) -> bool:
        return self.n_classes == 2

    @cached_property
    def y_bin(self) -> np.ndarray:
        return (self.y == self.pos).astype(int)

    @cached_property
    def confusion(self) -> np.ndarray:
        """(Weighted) counts of true class x predicted class: every label-based metric reads it, at a
        fraction of the cost of one scikit-learn call each (cross-validation scores every fold)."""
        k = self.n_classes
        counts = np.bincount(self.y * k + self.pred, weights=self.sample_weight, minlength=k * k)
        return counts.reshape(k, k).astype(np.float64)

    @cached_property
    def labelled(self) -> np.ndarray:
        """Classes that occur in y_true or the predictions: scikit-learn's labels for macro/weighted averages."""
        seen = np.zeros(self.n_classes, dtype=bool)
        seen[self.y] = True
        seen[self.pred] = True
        return np.flatnonzero(seen)


class _RegressionInputs:
    """Targets, predictions and the normalising ranges shared by regression metrics."""

    def __init__(
        self,
        y_true: Any,
        y_pred: Any,
        sample_weight: Any = None,
        y_range: float | None = None,
    ) -> None:
        y = np.asarray(y_true, dtype=float).ravel()
        p = np.asarray(y_pred, dtype=float).ravel()
        if y.shape != p.shape:
            raise DataError(f"y_true and y_pred must have the same length, got {len(y)} and {len(p)}.")
        self.y = y
        self.pred = p
        self.sample_weight = _as_weight(sample_weight, len(y))
        if y_range is None:
            y_range = float(np.ptp(y)) if len(y) else 0.0
        self.y_range = _safe_range(y_range)

    @cached_property
    def log_range(self) -> float:
        """Range of log1p(y_true); only the scalar training range is known, so the log range comes from y_true."""
        if len(self.y) == 0 or (self.y < 0).any():
            return 1.0
        return _safe_range(float(np.ptp(np.log1p(self.y))))


def _as_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=float).ravel()
    if len(w) != n:
        raise DataError(f"sample_weight must have one value per row ({n}), got {len(w)}.")
    return w


def _safe_range(value: float) -> float:
    """A zero, negative or non-finite range would blow up normalisation; 1 leaves the metric unnormalised."""
    value = float(value)
    return value if math.isfinite(value) and value > 0 else 1.0


# ----------------------------------------------------------------- classification fns


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (zero_division=0, as Azure reports)."""
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _accuracy(c: _ClassificationInputs) -> float:
    total = c.confusion.sum()
    return float(np.trace(c.confusion) / total) if total > 0 else _NAN


def _weighted_accuracy(c: _ClassificationInputs) -> float:
    """Azure: accuracy with each sample weighted by the (weighted) size of its true class."""
    class_size = c.confusion.sum(axis=1)
    total = float(class_size @ class_size)
    return float(np.diag(c.confusion) @ class_size / total) if total > 0 else _NAN


def _balanced_accuracy(c: _ClassificationInputs) -> float:
    """Mean recall over the classes that occur in y_true (scikit-learn's balanced_accuracy_score)."""
    support = c.confusion.sum(axis=1)
    occurs = support > 0
    return float(np.mean(np.diag(c.confusion)[occurs] / support[occurs])) if occurs.any() else _NAN


def _norm_macro_recall(c: _ClassificationInputs) -> float:
    """(macro recall - R) / (1 - R), R = 1/C the chance-level macro recall; not clipped."""
    chance = 1.0 / c.n_classes
    if chance >= 1.0:
        return _NAN
    recall = _set_metric("recall", "macro", c)
    return (recall - chance) / (1.0 - chance)


def _log_loss(c: _ClassificationInputs) -> float:
    """Clip to [1e-15, 1] so a confident miss is finite, then renormalise rows (as scikit-learn does)."""
    p = np.clip(c.proba, _PROBA_EPS, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    if len(c.y) == 0:
        return _NAN
    return float(np.average(-np.log(p[np.arange(len(c.y)), c.y]), weights=c.sample_weight))


def _matthews(c: _ClassificationInputs) -> float:
    """scikit-learn's multiclass Matthews correlation (Gorodkin's R_K) from the confusion matrix."""
    t_sum, p_sum = c.confusion.sum(axis=1), c.confusion.sum(axis=0)
    n = c.confusion.sum()
    cov_tp = np.trace(c.confusion) * n - t_sum @ p_sum
    cov_pp, cov_tt = n * n - p_sum @ p_sum, n * n - t_sum @ t_sum
    return float(cov_tp / np.sqrt(cov_tt * cov_pp)) if cov_tt * cov_pp > 0 else 0.0


_SET_METRICS: Mapping[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    # (true positives, predicted count, true count) of each class -> the score of each class
    "precision": lambda tp, predicted, actual: _ratio(tp, predicted),
    "recall": lambda tp, predicted, actual: _ratio(tp, actual),
    "f1": lambda tp, predicted, actual: _ratio(2 * tp, predicted + actual),
}


def _set_metric(kind: str, average: str, c: _ClassificationInputs) -> float:
    """precision/recall/f1 from predicted labels; zero_division=0 like Azure; equal to scikit-learn's."""
    tp, predicted, actual = np.diag(c.confusion), c.confusion.sum(axis=0), c.confusion.sum(axis=1)
    score = _SET_METRICS[kind]
    if average == "binary":
        if not c.is_binary:
            return _NAN
        at = [c.pos]
        return float(score(tp[at], predicted[at], actual[at])[0])
    if average == "micro":
        return float(score(tp.sum(keepdims=True), predicted.sum(keepdims=True), actual.sum(keepdims=True))[0])
    labels = c.labelled
    per_class = score(tp[labels], predicted[labels], actual[labels])
    if average == "macro":
        return float(per_class.mean()) if len(labels) else 0.0
    support = actual[labels]
    return float(per_class @ support / support.sum()) if support.sum() > 0 else 0.0


def _tied_runs(y_true: np.ndarray, scores: np.ndarray,
               sample_weight: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(positive weight, negative weight) of each run of tied scores, lowest score first: the one sort
    both ranking metrics read. None for no rows."""
    y = np.asarray(y_true).ravel().astype(bool)
    s = np.asarray(scores, dtype=np.float64).ravel()
    if len(s) == 0:
        return None
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    order = np.argsort(s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(s)) + 1))  # the first row of each run of tied scores
    return np.add.reduceat(np.where(y, w, 0.0), starts), np.add.reduceat(np.where(y, 0.0, w), starts)


def _ranked_auc(y_true: np.ndarray, scores: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """ROC AUC as the (weighted) Mann-Whitney statistic: one sort, ties count half.

    Equal to sklearn's roc_auc_score (the trapezoid under the ROC curve is this statistic) at a
    fraction of its cost; ensemble selection scores hundreds of blends, so it is the hot loop.
    NaN when y_true has no positives or no negatives."""
    runs = _tied_runs(y_true, scores, sample_weight)
    if runs is None:
        return _NAN
    pos, neg = runs
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return _NAN
    negatives_below = np.cumsum(neg) - neg
    return float(np.dot(pos, negatives_below + 0.5 * neg) / (total_pos * total_neg))


def _ranked_average_precision(y_true: np.ndarray, scores: np.ndarray,
                              sample_weight: np.ndarray | None = None) -> float:
    """Average precision, sum over the distinct thresholds (descending) of (R_i - R_{i-1}) * P_i: one
    sort, equal to scikit-learn's average_precision_score at a fraction of its cost. NaN without positives."""
    runs = _tied_runs(y_true, scores, sample_weight)
    if runs is None:
        return _NAN
    tps, fps = (np.cumsum(weight[::-1]) for weight in runs)  # at each threshold, highest first
    if tps[-1] <= 0:
        return _NAN
    precision = _ratio(tps, tps + fps)
    return float(np.diff(np.concatenate(([0.0], tps / tps[-1]))) @ precision)


def _averaged(binary_score: Callable[..., float], y_onehot: np.ndarray, proba: np.ndarray, average: str,
              sample_weight: np.ndarray | None) -> float:
    """scikit-learn's one-vs-rest averages of a ranking score: micro pools every cell, macro/weighted
    average per column (weighted by each column's weighted support)."""
    if average == "micro":
        w = None if sample_weight is None else np.repeat(sample_weight, y_onehot.shape[1])
        return binary_score(y_onehot.ravel(), proba.ravel(), w)
    per_class = np.array([binary_score(y_onehot[:, k], proba[:, k], sample_weight)
                          for k in range(y_onehot.shape[1])])
    if average == "macro":
        return float(np.mean(per_class))
    support = (y_onehot.sum(axis=0) if sample_weight is None
               else (y_onehot * sample_weight[:, None]).sum(axis=0)).astype(np.float64)
    return float(np.average(per_class, weights=support)) if support.sum() > 0 else _NAN


def _auc(average: str, c: _ClassificationInputs) -> float:
    """One-vs-rest ROC AUC; NaN when fewer than two classes occur (no negatives to rank against)."""
    if len(c.present) < 2:
        return _NAN
    if average == "binary":
        if not c.is_binary:
            return _NAN
        return _ranked_auc(c.y_bin, c.proba[:, c.pos], c.sample_weight)
    return _one_vs_rest(_ranked_auc, average, c)


def _average_precision(average: str, c: _ClassificationInputs) -> float:
    """One-vs-rest average precision; NaN when no class (or, for binary, no positive) occurs."""
    if len(c.present) == 0:
        return _NAN
    if average == "binary":
        if not c.is_binary or not c.y_bin.any():
            return _NAN
        return _ranked_average_precision(c.y_bin, c.proba[:, c.pos], c.sample_weight)
    return _one_vs_rest(_ranked_average_precision, average, c)


def _one_vs_rest(binary_score: Callable[..., float], average: str, c: _ClassificationInputs) -> float:
    """Micro pools every class column; macro/weighted keep only present classes, whose score is defined."""
    cols = np.arange(c.n_classes) if average == "micro" else c.present
    return _averaged(binary_score, c.onehot[:, cols], c.proba[:, cols], average, c.sample_weight)


# --------------------------------------------------------------------- regression fns


def _explained_variance(r: _RegressionInputs) -> float:
    return skm.explained_variance_score(r.y, r.pred, sample_weight=r.sample_weight)


def _r2(r: _RegressionInputs) -> float:
    return skm.r2_score(r.y, r.pred, sample_weight=r.sample_weight)


def _spearman(r: _RegressionInputs) -> float:
    """Rank correlation (unweighted: scipy has no weights); NaN when either side is constant."""
    if len(r.y) < 2 or np.ptp(r.y) == 0 or np.ptp(r.pred) == 0:
        return _NAN
    return stats.spearmanr(r.y, r.pred).statistic


def _mae(r: _RegressionInputs) -> float:
    return skm.mean_absolute_error(r.y, r.pred, sample_weight=r.sample_weight)


def _median_ae(r: _RegressionInputs) -> float:
    return skm.median_absolute_error(r.y, r.pred, sample_weight=r.sample_weight)


def _rmse(r: _RegressionInputs) -> float:
    return math.sqrt(skm.mean_squared_error(r.y, r.pred, sample_weight=r.sample_weight))


def _rmsle(r: _RegressionInputs) -> float:
    """Defined only for non-negative targets; negative predictions are clipped to 0 as Azure does."""
    if (r.y < 0).any():
        return _NAN
    pred = np.clip(r.pred, 0.0, None)
    return math.sqrt(skm.mean_squared_log_error(r.y, pred, sample_weight=r.sample_weight))


def _mape(r: _RegressionInputs) -> float:
    """Mean absolute percentage error in percent, skipping rows with y_true == 0 (undefined there)."""
    keep = r.y != 0
    if not keep.any():
        return _NAN
    ape = np.abs((r.y[keep] - r.pred[keep]) / r.y[keep])
    weights = None if r.sample_weight is None else r.sample_weight[keep]
    return 100.0 * float(np.average(ape, weights=weights))


def _normalized(metric: Callable[[_RegressionInputs], float], r: _RegressionInputs) -> float:
    return metric(r) / r.y_range


def _normalized_rmsle(r: _RegressionInputs) -> float:
    return _rmsle(r) / r.log_range


# ----------------------------------------------------------------------- the registry

# (name, greater_is_better, fn) rows; the task and primary flag are filled in below.
_CLASSIFICATION_ROWS: tuple[tuple[str, bool, Callable[[_ClassificationInputs], float]], ...] = (
    *((f"AUC_{avg}", True, partial(_auc, avg)) for avg in ("binary", *_AVERAGES)),
    ("accuracy", True, _accuracy),
    ("weighted_accuracy", True, _weighted_accuracy),
    ("balanced_accuracy", True, _balanced_accuracy),
    ("norm_macro_recall", True, _norm_macro_recall),
    ("log_loss", False, _log_loss),
    ("matthews_correlation", True, _matthews),
    *(
        (f"{prefix}_{avg}", True, partial(_set_metric, score, avg))
        for prefix, score in (("f1_score", "f1"), ("precision_score", "precision"), ("recall_score", "recall"))
        for avg in ("binary", *_AVERAGES)
    ),
    *((f"average_precision_score_{avg}", True, partial(_average_precision, avg)) for avg in ("binary", *_AVERAGES)),
)

_REGRESSION_ROWS: tuple[tuple[str, bool, Callable[[_RegressionInputs], float]], ...] = (
    ("explained_variance", True, _explained_variance),
    ("r2_score", True, _r2),
    ("spearman_correlation", True, _spearman),
    ("mean_absolute_error", False, _mae),
    ("median_absolute_error", False, _median_ae),
    ("root_mean_squared_error", False, _rmse),
    ("root_mean_squared_log_error", False, _rmsle),
    ("mean_absolute_percentage_error", False, _mape),
    ("normalized_mean_absolute_error", False, partial(_normalized, _mae)),
    ("normalized_median_absolute_error", False, partial(_normalized, _median_ae)),
    ("normalized_root_mean_squared_error", False, partial(_normalized, _rmse)),
    ("normalized_root_mean_squared_log_error", False, _normalized_rmsle),
)


def _build_registry() -> dict[str, MetricSpec]:
    registry: dict[str, MetricSpec] = {}
    for task, rows in ((CLASSIFICATION, _CLASSIFICATION_ROWS), (REGRESSION, _REGRESSION_ROWS)):
        for name, greater, fn in rows:
            registry[name] = MetricSpec(name, task, greater, name in _PRIMARY[task], fn)
    return registry


METRICS: dict[str, MetricSpec] = _build_registry()


# ------------------------------------------------------------------------- public API


def _family(task: str) -> str:
    try:
        return _TASK_FAMILY[task]
    except (KeyError, TypeError):
        raise ConfigError(f"task={task!r} is not supported; use one of {', '.join(map(repr, _TASK_FAMILY))}.") from None


def _spec(name: str) -> MetricSpec:
    try:
        return METRICS[name] if name in METRICS else CUSTOM_METRICS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"metric {name!r} is unknown; valid metrics: {', '.join(METRICS)}.") from None


def metric_spec(name: str) -> MetricSpec:
    """A built-in or registered custom metric by name (its direction, family, function)."""
    return _spec(name)


def metric_names(task: str) -> list[str]:
    """All scalar metric names of a task, in registry order (forecasting uses regression's)."""
    family = _family(task)
    return [name for name, spec in METRICS.items() if spec.task == family]


def primary_metric_names(task: str) -> list[str]:
    """Azure's allowed primary metrics for a task (forecasting excludes spearman_correlation)."""
    _family(task)
    return list(_PRIMARY[task])


def default_primary_metric(task: str) -> str:
    """Azure's default: accuracy for classification, normalized RMSE for regression and forecasting."""
    _family(task)
    return _DEFAULT_PRIMARY[task]


def to_loss(name: str, value: float) -> float:
    """Turn a metric value into a quantity to minimise, so search code needs no direction logic.

    NaN (a failed or undefined metric) maps to +inf so it always ranks last.
    """
    spec = _spec(name)
    if value is None or math.isnan(value):
        return math.inf
    return -float(value) if spec.greater_is_better else float(value)


def _evaluate(family: str, inputs: Any, also: Sequence[str] = ()) -> dict[str, float]:
    """Run every metric of a family, plus the custom metrics named in `also`; an exception in one
    metric only NaNs that one; warnings are silenced."""
    out: dict[str, float] = {}
    custom = [(n, CUSTOM_METRICS[n]) for n in also if n in CUSTOM_METRICS and n not in METRICS]
    for name, spec in [*METRICS.items(), *custom]:
        if spec.task != family:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[name] = float(spec.fn(inputs))
        except Exception:  # noqa: BLE001 - one bad metric must not sink the trial
            out[name] = _NAN
    return out


def classification_metrics(
    y_true: np.ndarray,
    proba: np.ndarray,
    classes: Sequence,
    sample_weight: np.ndarray | None = None,
    positive_label: Any = None,
) -> dict[str, float]:
    """Every scalar classification metric.

    y_true: labels (any dtype, values among ``classes``); proba: (n, n_classes)
    probabilities in the column order of ``classes``. Predicted label =
    ``classes[argmax(proba)]``. ``positive_label`` (default ``classes[-1]``)
    drives the ``_binary`` metrics. Raises DataError for mismatched inputs.
    """
    return _evaluate(CLASSIFICATION, _ClassificationInputs(y_true, proba, classes, sample_weight, positive_label))


def regression_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    sample_weight: np.ndarray | None = None,
    y_range: float | None = None,
) -> dict[str, float]:
    """Every scalar regression metric.

    ``y_range`` is max - min of the *training* target (Azure normalises by it so
    scores are comparable across validation folds); it defaults to the range of
    ``y_true``; a zero range normalises by 1.
    """
    return _evaluate(REGRESSION, _RegressionInputs(y_true, y_pred, sample_weight, y_range))


def _compute_classification(y_true, prediction, classes, sample_weight, positive_label, y_range,
                            also=()) -> dict[str, float]:
    if classes is None:
        raise DataError("classes is required for classification metrics (the column order of the probabilities).")
    return _evaluate(CLASSIFICATION, _ClassificationInputs(y_true, prediction, classes, sample_weight, positive_label),
                     also)


def _compute_regression(y_true, prediction, classes, sample_weight, positive_label, y_range,
                        also=()) -> dict[str, float]:
    return _evaluate(REGRESSION, _RegressionInputs(y_true, prediction, sample_weight, y_range), also)


_COMPUTE: Mapping[str, Callable[..., dict[str, float]]] = {
    CLASSIFICATION: _compute_classification,
    REGRESSION: _compute_regression,
}


def compute_metrics(
    task: str,
    y_true: Any,
    prediction: Any,
    classes: Sequence | None = None,
    sample_weight: Any = None,
    positive_label: Any = None,
    y_range: float | None = None,
    also: Sequence[str] = (),
) -> dict[str, float]:
    """All scalar metrics of ``task``: ``prediction`` is class probabilities for
    classification and point predictions for regression/forecasting. ``also``: names of
    registered custom metrics to compute too (a run's primary metric)."""
    return _COMPUTE[_family(task)](y_true, prediction, classes, sample_weight, positive_label, y_range, also)


def compute_metric(
    name: str,
    task: str,
    y_true: Any,
    prediction: Any,
    classes: Sequence | None = None,
    sample_weight: Any = None,
    positive_label: Any = None,
    y_range: float | None = None,
) -> float:
    """One metric only: ensemble selection scores hundreds of candidate blends, and
    computing every metric each time would cost 20x more."""
    spec = _spec(name)
    family = _family(task)
    if spec.task != family:
        raise ConfigError(f"metric {name!r} is a {spec.task} metric; the task is {task!r}.")
    if family == CLASSIFICATION:
        if classes is None:
            raise DataError("classes is required for classification metrics (the column order of the probabilities).")
        inputs: Any = _ClassificationInputs(y_true, prediction, classes, sample_weight, positive_label)
    else:
        inputs = _RegressionInputs(y_true, prediction, sample_weight, y_range)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(spec.fn(inputs))
    except Exception:  # noqa: BLE001 - an undefined metric ranks last, like in a trial
        return _NAN


@dataclass
class ValidationTarget:
    """What every candidate's validation predictions are scored against: the actual values at
    the scored rows (`rows`: indices into a candidate's `oof`; None = all of it). Trials, ensemble
    selection, ensemble scoring and the generated code read only this, whatever the task.

    Out-of-fold predictions are scored pooled, not fold by fold and averaged (Azure's way): pooled
    AUC ranks every pair of rows, a fold's only the pairs inside it, and on small folds that noise
    moved the search more than the folds' differing probability scales (benchmarks/results/
    sa_only_per_fold.md)."""

    task: str
    y: np.ndarray
    weight: np.ndarray | None = None
    classes: Sequence | None = None
    positive_label: Any = None
    y_range: float | None = None
    rows: np.ndarray | None = None

    def take(self, oof: np.ndarray) -> np.ndarray:
        return oof if self.rows is None else oof[self.rows]

    @cached_property
    def actual(self) -> np.ndarray:
        return self.take(self.y)

    @cached_property
    def scored_weight(self) -> np.ndarray | None:
        return None if self.weight is None else self.take(self.weight)

    def loss(self, metric: str, prediction: np.ndarray) -> float:
        """One metric of predictions already restricted to the scored rows (fast: selection loops)."""
        value = compute_metric(metric, self.task, self.actual, prediction, self.classes, self.scored_weight,
                               self.positive_label, self.y_range)
        return to_loss(metric, value)

    def score(self, oof: np.ndarray, also: Sequence[str] = ()) -> dict[str, float]:
        """Every metric of a full-length validation prediction (plus the custom ones named in `also`)."""
        return compute_metrics(self.task, self.actual, self.take(oof), classes=self.classes,
                               sample_weight=self.scored_weight, positive_label=self.positive_label,
                               y_range=self.y_range, also=also)


# ------------------------------------------------------------------------ custom metrics


@dataclass(frozen=True)
class CustomMetric:
    """A metric of your own, usable as primary_metric (like FLAML's custom metric).

    ``function(y_true, y_pred)`` returns a float; it may also take ``sample_weight``. For
    classification ``y_pred`` is the predicted labels, or with ``needs_proba=True`` the
    probability of the positive class (binary) / an (n, n_classes) matrix in the order of the
    sorted classes (multiclass). ``greater_is_better`` gives the direction. The function travels
    to Spark executors with the trials, so it must be picklable by cloudpickle (a lambda is).
    """

    name: str
    function: Callable[..., float] | None
    greater_is_better: bool = True
    needs_proba: bool = False
    task: str | None = None  # the metric family, set by AutoMLConfig

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"CustomMetric needs a non-empty name; got {self.name!r}.")
        if self.function is not None and not callable(self.function):
            raise ConfigError(f"CustomMetric {self.name!r}: function must be callable(y_true, y_pred); "
                              f"got {type(self.function).__name__}.")
        if not isinstance(self.greater_is_better, bool) or not isinstance(self.needs_proba, bool):
            raise ConfigError(f"CustomMetric {self.name!r}: greater_is_better and needs_proba must be bools.")


def _call_custom(metric: CustomMetric, y_true: np.ndarray, y_pred: np.ndarray, weight: np.ndarray | None) -> float:
    import inspect

    if metric.function is None:
        raise ConfigError(f"The function of custom metric {metric.name!r} was not stored with this run.")
    try:
        takes_weight = "sample_weight" in inspect.signature(metric.function).parameters
    except (TypeError, ValueError):
        takes_weight = False
    if weight is not None and takes_weight:
        return float(metric.function(y_true, y_pred, sample_weight=weight))
    return float(metric.function(y_true, y_pred))


def _custom_classification(metric: CustomMetric, c: _ClassificationInputs) -> float:
    if metric.needs_proba:
        prediction = c.proba[:, c.pos] if c.is_binary else c.proba
    else:
        prediction = c.labels[c.pred]
    return _call_custom(metric, c.labels[c.y], prediction, c.sample_weight)


def _custom_regression(metric: CustomMetric, r: _RegressionInputs) -> float:
    return _call_custom(metric, r.y, r.pred, r.sample_weight)


_CUSTOM_ADAPTERS: Mapping[str, Callable[..., float]] = {
    CLASSIFICATION: _custom_classification,
    REGRESSION: _custom_regression,
}
CUSTOM_METRICS: dict[str, MetricSpec] = {}  # by name: found by name everywhere, computed only when asked for


def register_metric(metric: CustomMetric) -> None:
    """Make a custom metric known by name (the driver, and each Spark worker before its trials): rankings,
    directions and ensemble selection find it; metric tables include it where the run names it as its
    primary metric (`also`). Built-in tables (METRICS) never change. Idempotent."""
    if metric.name in METRICS:
        raise ConfigError(f"Custom metric name {metric.name!r} is a built-in metric; choose another name.")
    family = _family(metric.task or REGRESSION)
    current = CUSTOM_METRICS.get(metric.name)
    if current is not None and (current.fn.args[0] == metric or metric.function is None):
        return  # already there (a stored run's name-only copy never replaces a live function)
    CUSTOM_METRICS[metric.name] = MetricSpec(metric.name, family, metric.greater_is_better, False,
                                      partial(_CUSTOM_ADAPTERS[family], metric))
