"""Azure's non-scalar metrics as data: confusion_matrix, accuracy_table, classification_report,
residuals and predicted_true, in Azure's JSON shapes ({"schema_type", "schema_version", "data"}).

They are logged beside the charts (the PNGs draw the same numbers), so a dashboard or a test can read
them without parsing a picture.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix

N_THRESHOLDS = 100  # accuracy_table: probability and percentile thresholds 0..1 in 100 steps
N_BINS = 10


def _shape(schema_type: str, version: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"schema_type": schema_type, "schema_version": version, "data": data}


def _counts_at(scores: np.ndarray, positive: np.ndarray, thresholds: np.ndarray) -> list[list[int]]:
    """[TP, FP, TN, FN] of 'score >= threshold' for each threshold."""
    out = []
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    for t in thresholds:
        predicted = scores >= t
        tp = int((predicted & positive).sum())
        fp = int((predicted & ~positive).sum())
        out.append([tp, fp, n_neg - fp, n_pos - tp])
    return out


def classification_tables(y_true: Any, proba: np.ndarray, classes: Sequence) -> dict[str, dict[str, Any]]:
    labels = list(classes)
    label_array = np.asarray(labels)  # its own dtype: an object array of ints is an 'unknown' target to sklearn
    y = np.asarray(y_true)
    proba = np.asarray(proba, dtype=float)
    predicted = label_array[proba.argmax(axis=1)]
    matrix = confusion_matrix(y, predicted, labels=label_array).tolist()
    thresholds = np.linspace(0.0, 1.0, N_THRESHOLDS + 1)
    prob_tables, pct_tables = [], []
    for k, label in enumerate(labels):
        positive = y == label
        scores = proba[:, k]
        prob_tables.append(_counts_at(scores, positive, thresholds))
        ranks = pd.Series(scores).rank(pct=True, method="max").to_numpy()
        pct_tables.append(_counts_at(ranks, positive, 1.0 - thresholds[::-1]))
    report = classification_report(y, predicted, labels=label_array, target_names=[str(c) for c in labels],
                                   output_dict=True, zero_division=0)
    class_labels = [c.item() if hasattr(c, "item") else c for c in labels]
    return {
        "confusion_matrix": _shape("confusion_matrix", "1.0.0", {"class_labels": class_labels, "matrix": matrix}),
        "accuracy_table": _shape("accuracy_table", "1.0.1", {
            "class_labels": class_labels, "probability_thresholds": thresholds.round(4).tolist(),
            "percentile_thresholds": (1.0 - thresholds[::-1]).round(4).tolist(),
            "probability_tables": prob_tables, "percentile_tables": pct_tables}),
        "classification_report": _shape("classification_report", "1.0.0", report),
    }


def regression_tables(y_true: Any, y_pred: Any) -> dict[str, dict[str, Any]]:
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    residuals = y - p
    counts, edges = np.histogram(residuals, bins=N_BINS)
    true_edges = np.histogram_bin_edges(y, bins=N_BINS)
    which = np.clip(np.digitize(y, true_edges[1:-1]), 0, N_BINS - 1)
    bin_counts = np.bincount(which, minlength=N_BINS)
    averages = [float(p[which == b].mean()) if bin_counts[b] else None for b in range(N_BINS)]
    errors = [float(p[which == b].std()) if bin_counts[b] else None for b in range(N_BINS)]
    return {
        "residuals": _shape("residuals", "1.0.0", {
            "bin_edges": edges.tolist(), "bin_counts": counts.tolist(), "mean": float(residuals.mean()),
            "stddev": float(residuals.std()), "res_count": int(len(residuals))}),
        "predicted_true": _shape("predictions", "1.0.0", {
            "bin_edges": true_edges.tolist(), "bin_counts": bin_counts.tolist(), "bin_averages": averages,
            "bin_errors": errors}),
    }


def tables_for(task: str, y_true: Any, prediction: Any, classes: Sequence | None = None) -> dict[str, str]:
    """The task's table metrics as JSON texts by file name (confusion_matrix.json, ...)."""
    tables = (classification_tables(y_true, prediction, classes) if task == "classification"
              else regression_tables(y_true, prediction))
    return {f"{name}.json": json.dumps(table, default=str) for name, table in tables.items()}
