"""Diagnostic charts of an AutoML run, rendered to PNG bytes for MLflow.

The curves are scikit-learn's displays (RocCurveDisplay, PrecisionRecallDisplay,
CalibrationDisplay, ConfusionMatrixDisplay, PredictionErrorDisplay) drawn on our own axes; only
what they lack is ours: weighted calibration bins and confusion counts, lift and gains. Axes name
the target. Figures are built with :class:`matplotlib.figure.Figure` and ``FigureCanvasAgg``
directly, never ``pyplot``: pyplot keeps a global figure registry (not thread-safe,
leaks figures that nobody closes) and may try to open a window. Each chart is small
(5x4 in at 100 dpi) so rendering stays far below the cost of a trial.

Conventions follow :mod:`spark_automl.metrics`: labels are mapped to positions in
``classes`` (any dtype), the positive class of a binary problem is ``classes[-1]``,
and one-vs-rest curves skip classes that cannot be drawn (absent from ``y_true`` or
covering every row). Rows with a NaN prediction are dropped first, because
out-of-fold predictions are NaN for rows no fold validated. A chart that has
nothing to draw says so in its plot instead of raising, so one odd fold never
costs the run its other artifacts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn import metrics as skm
from sklearn.calibration import CalibrationDisplay

from .errors import ConfigError, DataError

__all__ = [
    "classification_charts",
    "regression_charts",
    "feature_importance_chart",
    "charts_for",
]

FIGSIZE = (5.0, 4.0)
DPI = 100
MAX_LEGEND_CLASSES = 10  # above this, one-vs-rest lines are unreadable: plot the micro-average only
MAX_ANNOTATED_CLASSES = 20  # above this, confusion-matrix counts no longer fit in their cells
MAX_CURVE_ROWS = 200_000  # a PNG cannot show more detail; bounds the sort cost of the curves
MAX_SCATTER_POINTS = 5_000
CALIBRATION_BINS = 10
_SEED = 0


# --------------------------------------------------------------------------- rendering


def _figure(size: tuple[float, float] = FIGSIZE, tight: bool = False) -> tuple[Figure, Axes]:
    """Fixed margins fit the short axis labels of the curves; ``tight`` (for tick labels of
    unknown length) costs an extra layout pass, about 40% of the render time."""
    fig = Figure(figsize=size, dpi=DPI, layout="tight" if tight else None)
    FigureCanvasAgg(fig)
    if not tight:
        fig.subplots_adjust(left=0.13, right=0.96, bottom=0.12, top=0.92)
    return fig, fig.add_subplot()


def _png(fig: Figure) -> bytes:
    """Render and drop the artists at once, so a long run does not hold figures alive."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    fig.clear()
    return buf.getvalue()


def _note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes, color="0.35")


def _label(value: Any, width: int = 20) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def _weights(sample_weight: Any, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float).ravel()
    if len(w) != n:
        raise DataError(f"sample_weight must have one value per row ({n}), got {len(w)}.")
    return w


# --------------------------------------------------------------------------- classification


@dataclass(frozen=True)
class _Series:
    """One curve: a binary target, its score and weights (one class vs rest, or micro-average)."""

    name: str
    y: np.ndarray
    score: np.ndarray
    w: np.ndarray


@dataclass(frozen=True)
class _Classes:
    y: np.ndarray  # class positions
    proba: np.ndarray
    w: np.ndarray
    labels: list[Any]

    @property
    def k(self) -> int:
        return len(self.labels)


def _classification_inputs(y_true: Any, proba: Any, classes: Sequence, sample_weight: Any) -> _Classes:
    class_index = pd.Index(list(classes))
    if len(class_index) == 0 or not class_index.is_unique:
        raise DataError(f"classes must be unique and non-empty, got {list(classes)!r}.")
    y_arr = np.asarray(y_true).ravel()
    p = np.asarray(proba, dtype=float)
    if p.shape != (len(y_arr), len(class_index)):
        raise DataError(
            f"proba must have shape (n_samples, n_classes) = ({len(y_arr)}, {len(class_index)}), got {p.shape}."
        )
    w = _weights(sample_weight, len(y_arr))
    keep = np.isfinite(p).all(axis=1) & ~pd.isna(y_arr) & np.isfinite(w)
    y_idx = class_index.get_indexer(y_arr[keep])
    if (y_idx < 0).any():
        unknown = sorted({repr(getattr(v, "item", lambda: v)()) for v in y_arr[keep][y_idx < 0]})[:5]
        raise DataError(f"y_true has labels not in classes {list(classes)!r}: {', '.join(unknown)}.")
    return _Classes(y=y_idx, proba=p[keep], w=w[keep], labels=list(class_index))


def _drawable(s: _Series) -> bool:
    """A ranking curve needs weight on both sides; otherwise sklearn warns and returns NaN."""
    pos = float(s.w[s.y == 1].sum())
    neg = float(s.w[s.y == 0].sum())
    return pos > 0 and neg > 0


def _series(c: _Classes, positive_label: Any = None) -> list[_Series]:
    """Binary: the positive class only (positive_label, default the last class), as the _binary
    metrics. Multiclass: one-vs-rest per class plus micro-average."""
    if len(c.y) > MAX_CURVE_ROWS:
        rows = np.sort(np.random.default_rng(_SEED).choice(len(c.y), MAX_CURVE_ROWS, replace=False))
        c = _Classes(y=c.y[rows], proba=c.proba[rows], w=c.w[rows], labels=c.labels)
    if c.k <= 2:
        pos = c.labels.index(positive_label) if positive_label in c.labels else c.k - 1
        candidates = [_Series(_label(c.labels[pos]), (c.y == pos).astype(int), c.proba[:, pos], c.w)]
    else:
        onehot = np.eye(c.k, dtype=int)[c.y]
        micro = _Series("micro-average", onehot.ravel(), c.proba.ravel(), np.repeat(c.w, c.k))
        shown = range(c.k) if c.k <= MAX_LEGEND_CLASSES else range(0)
        per_class = [_Series(_label(c.labels[j]), onehot[:, j], c.proba[:, j], c.w) for j in shown]
        candidates = per_class + [micro]
    return [s for s in candidates if _drawable(s)]


def _style(s: _Series) -> dict[str, Any]:
    if s.name == "micro-average":
        return {"color": "black", "linestyle": "--", "linewidth": 1.5}
    return {"linewidth": 1.2}


def _finish(ax: Axes, series: list[_Series], k: int, title: str) -> None:
    suffix = f" (one-vs-rest, {k} classes)" if k > 2 else ""
    ax.set_title(title + suffix, fontsize=10)
    if not series:
        _note(ax, "Not defined: y_true does not hold both sides\nof any class.")
    else:
        ax.legend(fontsize=7, loc="best")


def _confusion_matrix(c: _Classes, target: str) -> bytes:
    # a weighted bincount: sklearn's confusion_matrix warns on a single present label even with labels=
    cells = c.y * c.k + c.proba.argmax(axis=1)
    cm = np.bincount(cells, weights=c.w, minlength=c.k * c.k).reshape(c.k, c.k)
    totals = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, totals, out=np.zeros_like(cm, dtype=float), where=totals > 0)
    side = min(12.0, max(FIGSIZE[0], 0.4 * c.k + 2.5))
    fig, ax = _figure((side, side * 0.85), tight=True)
    display = skm.ConfusionMatrixDisplay(share, display_labels=[_label(v) for v in c.labels])
    display.plot(ax=ax, cmap="Blues", include_values=c.k <= MAX_ANNOTATED_CLASSES, values_format=".2f",
                 xticks_rotation=45 if c.k > 3 else "horizontal", colorbar=True, im_kw={"vmin": 0.0, "vmax": 1.0})
    ax.set_xlabel(f"Predicted {target}")
    ax.set_ylabel(f"True {target}")
    ax.tick_params(labelsize=8)
    ax.set_title(f"Confusion matrix\n(share of each true class; {cm.sum():.0f} rows)", fontsize=10)
    return _png(fig)


def _roc(series: list[_Series], k: int) -> bytes:
    fig, ax = _figure()
    for i, s in enumerate(series):
        skm.RocCurveDisplay.from_predictions(s.y, s.score, sample_weight=s.w, pos_label=1, name=s.name, ax=ax,
                                             plot_chance_level=i == 0, drop_intermediate=True,
                                             chance_level_kw={"color": "0.7", "linestyle": ":"},
                                             curve_kwargs=_style(s))
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="False positive rate", ylabel="True positive rate")
    _finish(ax, series, k, "ROC curve")
    return _png(fig)


def _precision_recall(series: list[_Series], k: int) -> bytes:
    fig, ax = _figure()
    for s in series:
        skm.PrecisionRecallDisplay.from_predictions(s.y, s.score, sample_weight=s.w, pos_label=1, name=s.name, ax=ax,
                                                    plot_chance_level=k <= 2, drop_intermediate=True,
                                                    chance_level_kw={"color": "0.7", "linestyle": ":"},
                                             curve_kwargs=_style(s))
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="Recall", ylabel="Precision")
    _finish(ax, series, k, "Precision-recall curve")
    return _png(fig)


def _calibration_bins(s: _Series) -> tuple[np.ndarray, np.ndarray]:
    """Weighted reliability bins; sklearn's calibration_curve takes no sample_weight."""
    bins = np.clip((s.score * CALIBRATION_BINS).astype(int), 0, CALIBRATION_BINS - 1)
    total = np.bincount(bins, weights=s.w, minlength=CALIBRATION_BINS)
    mean_score = np.bincount(bins, weights=s.w * s.score, minlength=CALIBRATION_BINS)
    positives = np.bincount(bins, weights=s.w * s.y, minlength=CALIBRATION_BINS)
    filled = total > 0
    return mean_score[filled] / total[filled], positives[filled] / total[filled]


def _calibration(series: list[_Series], k: int) -> bytes:
    """CalibrationDisplay over our weighted bins (calibration_curve takes no sample_weight; with
    equal weights the bins are calibration_curve's own)."""
    fig, ax = _figure()
    for i, s in enumerate(series):
        mean_score, observed = _calibration_bins(s)
        CalibrationDisplay(observed, mean_score, s.score, estimator_name=s.name).plot(
            ax=ax, ref_line=i == 0, marker="o", markersize=3, **_style(s))
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="Mean predicted probability", ylabel="Observed frequency")
    _finish(ax, series, k, "Calibration curve")
    return _png(fig)


_GAINS_GRID = np.linspace(0.0, 1.0, 101)


def _gains(s: _Series) -> np.ndarray:
    """Share of the positive weight captured in the top x share of (weighted) rows, on _GAINS_GRID."""
    order = np.argsort(-s.score, kind="stable")
    w = s.w[order]
    population = np.concatenate([[0.0], np.cumsum(w)])
    captured = np.concatenate([[0.0], np.cumsum(w * s.y[order])])
    return np.interp(_GAINS_GRID, population / population[-1], captured / captured[-1])


def _cumulative_gains(series: list[_Series], k: int) -> bytes:
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":", linewidth=1, label="random")
    for s in series:
        ax.plot(_GAINS_GRID, _gains(s), label=s.name, **_style(s))
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="Share of rows (by descending score)", ylabel="Share of positives")
    _finish(ax, series, k, "Cumulative gains")
    return _png(fig)


def _lift(series: list[_Series], k: int) -> bytes:
    fig, ax = _figure()
    ax.axhline(1.0, color="0.7", linestyle=":", linewidth=1, label="random")
    for s in series:
        ax.plot(_GAINS_GRID[1:], _gains(s)[1:] / _GAINS_GRID[1:], label=s.name, **_style(s))
    ax.set(xlim=(0, 1), xlabel="Share of rows (by descending score)", ylabel="Lift")
    ax.set_ylim(bottom=0)
    _finish(ax, series, k, "Lift curve")
    return _png(fig)


def classification_charts(
    y_true: Any, proba: Any, classes: Sequence, sample_weight: Any = None, positive_label: Any = None,
    target_name: str = "label",
) -> dict[str, bytes]:
    """Confusion matrix, ROC, precision-recall, calibration, lift and gains charts as PNG bytes.

    ``proba[:, j]`` is the probability of ``classes[j]``. Rows with a NaN probability
    or a missing label are ignored; with no row left the result is ``{}``.
    """
    c = _classification_inputs(y_true, proba, classes, sample_weight)
    if len(c.y) == 0:
        return {}
    series = _series(c, positive_label)
    return {
        "confusion_matrix.png": _confusion_matrix(c, target_name),
        "roc_curve.png": _roc(series, c.k),
        "precision_recall_curve.png": _precision_recall(series, c.k),
        "calibration_curve.png": _calibration(series, c.k),
        "lift_curve.png": _lift(series, c.k),
        "cumulative_gains.png": _cumulative_gains(series, c.k),
    }


# --------------------------------------------------------------------------- regression


def _residuals_histogram(residuals: np.ndarray, w: np.ndarray, weighted: bool, target: str) -> bytes:
    fig, ax = _figure()
    bins = int(np.clip(np.sqrt(len(residuals)), 10, 50))
    ax.hist(residuals, bins=bins, weights=w, color="tab:blue", alpha=0.8)
    ax.axvline(0.0, color="black", linestyle=":", linewidth=1)
    mean = float(np.average(residuals, weights=w)) if w.sum() > 0 else float("nan")
    std = float(np.sqrt(np.average((residuals - mean) ** 2, weights=w))) if w.sum() > 0 else float("nan")
    ax.set_title(f"Residuals (true - predicted): mean={mean:.3g}, std={std:.3g}", fontsize=10)
    ax.set(xlabel=f"Residual of {target}", ylabel="Weighted count" if weighted else "Count")
    return _png(fig)


def _predicted_vs_true(y: np.ndarray, p: np.ndarray, w: np.ndarray, target: str) -> bytes:
    fig, ax = _figure(tight=True)
    r2 = float(skm.r2_score(y, p, sample_weight=w)) if len(y) > 1 and np.ptp(y) > 0 else float("nan")
    skm.PredictionErrorDisplay.from_predictions(
        y, p, kind="actual_vs_predicted", subsample=MAX_SCATTER_POINTS, random_state=_SEED, ax=ax,
        scatter_kwargs={"s": 8, "alpha": 0.4 if len(y) > 500 else 0.7, "edgecolors": "none"},
        line_kwargs={"color": "black", "linestyle": ":", "linewidth": 1})
    ax.set(xlabel=f"Predicted {target}", ylabel=f"True {target}")
    ax.set_title(f"True vs predicted (R\u00b2={r2:.3f})", fontsize=10)
    return _png(fig)


def _residuals_vs_predicted(y: np.ndarray, p: np.ndarray, target: str) -> bytes:
    fig, ax = _figure(tight=True)
    skm.PredictionErrorDisplay.from_predictions(
        y, p, kind="residual_vs_predicted", subsample=MAX_SCATTER_POINTS, random_state=_SEED, ax=ax,
        scatter_kwargs={"s": 8, "alpha": 0.4 if len(y) > 500 else 0.7, "edgecolors": "none"},
        line_kwargs={"color": "black", "linestyle": ":", "linewidth": 1})
    ax.set(xlabel=f"Predicted {target}", ylabel="Residual (true - predicted)")
    ax.set_title("Residuals vs predicted", fontsize=10)
    return _png(fig)


def regression_charts(y_true: Any, y_pred: Any, sample_weight: Any = None, target_name: str = "target") -> dict[str, bytes]:
    """Residual histogram, true-vs-predicted and residuals-vs-predicted; rows with a NaN are ignored."""
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if y.shape != p.shape:
        raise DataError(f"y_true and y_pred must have the same length, got {len(y)} and {len(p)}.")
    w = _weights(sample_weight, len(y))
    keep = np.isfinite(y) & np.isfinite(p) & np.isfinite(w)
    if not keep.any():
        return {}
    y, p, w = y[keep], p[keep], w[keep]
    return {
        "residuals_histogram.png": _residuals_histogram(y - p, w, sample_weight is not None, target_name),
        "predicted_vs_true.png": _predicted_vs_true(y, p, w, target_name),
        "residuals_vs_predicted.png": _residuals_vs_predicted(y, p, target_name),
    }


# --------------------------------------------------------------------------- importance and dispatch


IMPORTANCE_METHODS = {"shap": "mean |SHAP value| (TreeSHAP)", "permutation": "permutation importance (drop in score)"}


def feature_importance_chart(importance: pd.DataFrame, top: int = 20) -> bytes:
    """Horizontal bars of the ``top`` most important features, the largest on top; the title and
    axis name the method (the frame's ``method`` column, as explain_model returns it)."""
    missing = {"feature", "importance"} - set(importance.columns)
    if missing:
        raise DataError(
            f"importance must have the columns 'feature' and 'importance'; missing {sorted(missing)}, "
            f"got {list(importance.columns)}."
        )
    if top < 1:
        raise ConfigError(f"The 'top' parameter of feature_importance_chart must be >= 1. Got {top!r} instead.")
    methods = sorted(set(importance["method"].dropna().astype(str))) if "method" in importance.columns else []
    method = " + ".join(IMPORTANCE_METHODS.get(m, m) for m in methods)
    values = pd.to_numeric(importance["importance"], errors="coerce")
    frame = pd.DataFrame({"feature": importance["feature"].astype(str), "importance": values}).dropna()
    frame = frame.nlargest(top, "importance").iloc[::-1]  # barh draws bottom-up
    fig, ax = _figure((6.0, max(FIGSIZE[1], 0.28 * len(frame) + 1.2)), tight=True)
    if frame.empty:
        _note(ax, "No feature importance to show.")
    else:
        positions = np.arange(len(frame))
        ax.barh(positions, frame["importance"].to_numpy(), color="tab:blue")
        ax.set_yticks(positions, [_label(f, 40) for f in frame["feature"]], fontsize=8)
        ax.set_xlabel(method or "Importance")
    ax.set_title(f"Top {len(frame)} features by {method or 'importance'}", fontsize=10)
    return _png(fig)


def charts_for(
    task: str, y_true: Any, prediction: Any, classes: Sequence | None = None, sample_weight: Any = None,
    positive_label: Any = None, target_name: str | None = None,
) -> dict[str, bytes]:
    """The charts of ``task``: probabilities for classification, predictions otherwise."""
    if task == "classification":
        if classes is None:
            raise DataError("charts_for('classification', ...) needs classes, the labels of the proba columns.")
        return classification_charts(y_true, prediction, classes, sample_weight, positive_label, target_name or "label")
    return regression_charts(y_true, prediction, sample_weight, target_name or "target")
