"""Shared helpers for the benchmark scripts: datasets, the split protocol, scoring, output.

Protocol (see /work/shared/BENCHMARKS.md): rows with a missing target dropped; seeded 80/20
split (`train_test_split(test_size=0.2, random_state=0, stratify=y)` for classification, no
stratify for regression); metric on the 20% test part: AUC (binary, positive class = the second
of the sorted classes), one-vs-rest weighted AUC (multiclass), r2 (regression).
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = (REPO_ROOT / ".." / "shared" / "datasets").resolve()


@dataclass(frozen=True)
class Dataset:
    name: str
    target: str
    kind: str  # 'binary' | 'multiclass' | 'regression'
    drop: tuple[str, ...] = ()
    na_values: tuple[str, ...] = ()
    file: str = field(default="")

    @property
    def task(self) -> str:
        return "regression" if self.kind == "regression" else "classification"

    @property
    def metric_name(self) -> str:
        return {"binary": "AUC", "multiclass": "AUC_ovr_weighted", "regression": "r2"}[self.kind]

    @property
    def filename(self) -> str:
        return self.file or f"{self.name}.csv"


DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset("adult", "income", "binary", na_values=("?",)),
    Dataset("credit_g", "class", "binary"),
    Dataset("mammography", "class", "binary"),
    Dataset("penguins", "species", "multiclass"),
    Dataset("wine_quality_white", "quality", "multiclass"),
    Dataset("diamonds", "price", "regression"),
    Dataset("ames_housing", "price", "regression", drop=("PID",)),
]}
# Checks on data nothing was tuned on: shared files the MANIFEST lists as "also usable as regression", read as
# that task. Named with --datasets; not part of the default seven-row sitting that BENCHMARKS.md's peers ran.
UNTUNED: dict[str, Dataset] = {d.name: d for d in [
    Dataset("wine_quality_white_regression", "quality", "regression", file="wine_quality_white.csv"),
    Dataset("oj_sales_regression", "logmove", "regression", file="oj_sales.csv.gz"),
]}
KNOWN: dict[str, Dataset] = {**DATASETS, **UNTUNED}


def parse_datasets(text: str) -> list[Dataset]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise SystemExit(f"unknown dataset(s) {unknown}; choose from {', '.join(KNOWN)}")
    return [KNOWN[n] for n in names]


def load(ds: Dataset, data_dir: Path) -> pd.DataFrame:
    path = Path(data_dir) / ds.filename
    if not path.exists():
        raise SystemExit(f"dataset file not found: {path} (use --data-dir)")
    kwargs = {"na_values": list(ds.na_values)} if ds.na_values else {}
    frame = pd.read_csv(path, **kwargs)
    frame = frame.drop(columns=[c for c in ds.drop if c in frame.columns])
    return frame[frame[ds.target].notna()].reset_index(drop=True)


def split(ds: Dataset, frame: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The protocol's split; other seeds tell a real gap from the noise of one small test part."""
    from sklearn.model_selection import train_test_split

    stratify = frame[ds.target] if ds.task == "classification" else None
    train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def sorted_classes(y: pd.Series) -> list:
    return sorted(pd.unique(y).tolist())


def align_proba(proba, model_classes, classes: list) -> np.ndarray:
    """Columns of `proba` (in `model_classes` order) reordered to `classes`; absent classes get 0."""
    proba = np.asarray(proba, dtype=float)
    model_classes = list(np.asarray(model_classes).tolist())
    out = np.zeros((proba.shape[0], len(classes)))
    for j, c in enumerate(classes):
        matches = [i for i, m in enumerate(model_classes) if m == c or str(m) == str(c)]
        if matches:
            out[:, j] = proba[:, matches[0]]
    return out


def score(ds: Dataset, y_true: pd.Series, output, model_classes=None, classes: list | None = None) -> float:
    """The benchmark metric; `output` is predict_proba (classification) or predict (regression)."""
    from sklearn.metrics import r2_score, roc_auc_score

    if ds.kind == "regression":
        return float(r2_score(np.asarray(y_true, dtype=float), np.asarray(output, dtype=float)))
    proba = align_proba(output, model_classes, classes)
    if ds.kind == "binary":
        return float(roc_auc_score((np.asarray(y_true) == classes[1]).astype(int), proba[:, 1]))
    proba = proba / np.clip(proba.sum(axis=1, keepdims=True), 1e-12, None)  # sklearn wants rows summing to 1
    return float(roc_auc_score(np.asarray(y_true), proba, multi_class="ovr", average="weighted", labels=classes))


def fmt(value, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(columns: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(fmt(v) if not isinstance(v, str) else v for v in row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(columns: list[str], rows: list[list]) -> str:
    cells = [[c for c in columns]] + [[fmt(v) if not isinstance(v, str) else v for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    out = []
    for k, row in enumerate(cells):
        out.append("  ".join(v.ljust(w) for v, w in zip(row, widths)))
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def environment_line() -> str:
    import spark_automl

    parts = [f"spark_automl {spark_automl.__version__}", f"python {platform.python_version()}",
             f"{os.cpu_count()} cores", platform.machine()]
    try:
        import pyspark

        parts.append(f"pyspark {pyspark.__version__}")
    except ImportError:  # pragma: no cover
        pass
    return ", ".join(parts)


def quiet_spark(spark) -> None:
    try:
        spark.sparkContext.setLogLevel("ERROR")
    except Exception:  # noqa: BLE001
        pass


def test_output(ds: "Dataset", train, test, predictor) -> np.ndarray:
    """What the metric reads from any fitted predictor (ours or a peer's) on the held-out part:
    class probabilities in sorted-class order (classification) or the predictions (regression)."""
    test_X = test.drop(columns=[ds.target])
    if ds.task == "classification":
        return align_proba(predictor.predict_proba(test_X), predictor.classes_, sorted_classes(train[ds.target]))
    return np.asarray(predictor.predict(test_X), dtype=float)


def _classes(ds: "Dataset", train) -> list | None:
    return sorted_classes(train[ds.target]) if ds.task == "classification" else None


def score_output(ds: "Dataset", train, test, output: np.ndarray) -> float:
    """The benchmark metric of a `test_output`."""
    classes = _classes(ds, train)
    return score(ds, test[ds.target], output, classes, classes)


def predict_and_score(ds: "Dataset", train, test, predictor) -> tuple[np.ndarray, float]:
    """(test_output, its metric): the predictions are kept for the margin's paired bootstrap."""
    output = test_output(ds, train, test, predictor)
    return output, score_output(ds, train, test, output)


def score_predictor(ds: "Dataset", train, test, predictor) -> float:
    """The benchmark metric of any fitted predictor on the held-out part."""
    return predict_and_score(ds, train, test, predictor)[1]


BOOTSTRAP_RESAMPLES = 1000


def margin_interval(ds: "Dataset", train, test, ours: np.ndarray, theirs: np.ndarray,
                    resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> tuple[float, float]:
    """95% paired bootstrap interval of score(ours) - score(theirs) over the test rows.

    Both outputs are scored on the same resampled rows, so what the two models share (an easy or a
    hard test part) cancels and the interval measures how far the test part can tell them apart: a
    margin of -0.006 AUC on a test part of 52 positives is noise when its interval spans 0. For
    classification the rows are resampled within each class, so every resample keeps every class
    (AUC needs both) and the class balance of the test part."""
    y = test[ds.target].to_numpy()
    groups = ([np.flatnonzero(y == c) for c in pd.unique(y)] if ds.task == "classification"
              else [np.arange(len(y))])
    classes = _classes(ds, train)
    rng = np.random.default_rng(seed)
    diffs = np.empty(resamples)
    for k in range(resamples):
        rows = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        y_rows = pd.Series(y[rows])
        diffs[k] = (score(ds, y_rows, ours[rows], classes, classes)
                    - score(ds, y_rows, theirs[rows], classes, classes))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)
