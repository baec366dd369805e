"""Model testing: score any fitted pipeline on labelled rows it never saw.

Shared by the end-of-experiment test (test_data / test_size) and run.test(), so both give
the same predictions table and the same metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError
from .metrics import compute_metrics


def as_pandas(data: Any, spark=None, role: str = "test_data") -> pd.DataFrame:
    """pandas as is; a Spark DataFrame, table name or path is collected (test sets are small)."""
    if isinstance(data, pd.DataFrame):
        return data
    from .data.ingest import to_spark

    if spark is None:
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
    return to_spark(spark, data, role).toPandas()


def predictions_frame(model, frame: pd.DataFrame, task: str, label: str | None) -> pd.DataFrame:
    """actual (when labelled), predicted, and one probability column per class."""
    out = pd.DataFrame(index=frame.index)
    if label is not None and label in frame.columns:
        out["actual"] = frame[label].to_numpy()
    est = model.named_steps["model"] if hasattr(model, "named_steps") else model
    if task == "classification":
        proba = model.predict_proba(frame)
        classes = list(est.classes_)
        out["predicted"] = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
        for j, c in enumerate(classes):
            out[f"proba_{c}"] = proba[:, j]
    else:
        out["predicted"] = np.asarray(model.predict(frame), dtype=np.float64)
    return out.reset_index(drop=True)


def evaluate_on(model, frame: pd.DataFrame, label: str, task: str, classes=None, positive_label=None,
               y_range: float | None = None, weight_column: str | None = None,
               also: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict[str, float]]:
    """(predictions, every scalar metric, plus the custom ones named in `also`) on the labelled rows of `frame`."""
    _require_label(label, frame.columns)
    labelled = frame[frame[label].notna()].reset_index(drop=True)
    if labelled.empty:
        raise DataError(f"The test data has no rows with a value in the label column {label!r}.")
    preds = predictions_frame(model, labelled, task, label)
    weight = labelled[weight_column].to_numpy(dtype=np.float64) if weight_column and weight_column in labelled else None
    return preds, score_predictions(preds, label, task, classes, weight, positive_label, y_range, also)


def _require_label(label: str, columns) -> None:
    if label not in columns:
        raise DataError(f"The test data has no label column {label!r}; it has {list(columns)[:20]}. "
                        "Pass labelled rows to test a model.")


def score_predictions(preds: pd.DataFrame, label: str, task: str, classes=None, weight: np.ndarray | None = None,
                      positive_label=None, y_range: float | None = None, also: tuple[str, ...] = ()) -> dict[str, float]:
    """Every scalar metric of a predictions table (actual, predicted, proba_<class>...)."""
    if task == "classification":
        known = set(classes)
        unseen = sorted({repr(v) for v in preds["actual"] if v not in known})
        if unseen:
            raise DataError(f"The test data's label column {label!r} holds classes the model never saw: "
                            f"{', '.join(unseen[:5])}. Known classes: {list(classes)}.")
        y, prediction = preds["actual"].to_numpy(), preds[[f"proba_{c}" for c in classes]].to_numpy()
    else:
        y, prediction = preds["actual"].to_numpy(dtype=np.float64), preds["predicted"].to_numpy()
    return compute_metrics(task, y, prediction, classes=classes, sample_weight=weight,
                           positive_label=positive_label, y_range=y_range, also=also)


SPARK_EVAL_MAX_ROWS = 2_000_000  # scored rows whose predictions come back to compute the metrics


def evaluate_spark(model, df, label: str, task: str, classes=None, positive_label=None, y_range: float | None = None,
                   weight_column: str | None = None, seed: int = 0,
                   also: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict[str, float]]:
    """evaluate_on for a Spark DataFrame: the model scores every row in Spark tasks; only the
    narrow predictions table (actual, predicted, probabilities, weight) comes back, a seeded
    sample of SPARK_EVAL_MAX_ROWS when there are more. preds.attrs['rows'] counts the scored rows."""
    import pyspark.sql.functions as F
    from pyspark.sql.types import DoubleType, StructField, StructType

    from .spark_utils import col

    _require_label(label, df.columns)
    weight_column = weight_column if weight_column and weight_column in df.columns else None
    label_type = df.schema[label].dataType
    fields = [StructField("actual", label_type if task == "classification" else DoubleType()),
              StructField("predicted", label_type if task == "classification" else DoubleType())]
    if task == "classification":
        fields += [StructField(f"proba_{c}", DoubleType()) for c in classes]
    fields.append(StructField("weight", DoubleType()))
    schema = StructType(fields)
    broadcast = df.sparkSession.sparkContext.broadcast(model)

    def score(batches):
        for pdf in batches:
            out = predictions_frame(broadcast.value, pdf, task, label)
            if task == "classification":
                out = out.reindex(columns=[f.name for f in fields[:2]] + [f"proba_{c}" for c in classes])
            else:
                out["actual"] = out["actual"].astype(np.float64)
            out["weight"] = pdf[weight_column].to_numpy(dtype=np.float64) if weight_column else 1.0
            yield out

    labelled = df.where(col(label).isNotNull())
    if task == "regression":
        labelled = labelled.where(~F.isnan(col(label).cast("double")))
    scored = labelled.mapInPandas(score, schema).cache()
    try:
        n_rows = scored.count()
        if n_rows == 0:
            raise DataError(f"The test data has no rows with a value in the label column {label!r}.")
        kept = scored if n_rows <= SPARK_EVAL_MAX_ROWS else scored.sample(False, SPARK_EVAL_MAX_ROWS / n_rows, seed)
        preds = kept.toPandas()
    finally:
        scored.unpersist()
    weights = preds.pop("weight").to_numpy(dtype=np.float64)
    metrics = score_predictions(preds, label, task, classes, weights if weight_column else None, positive_label,
                                y_range, also)
    preds.attrs["rows"] = n_rows
    return preds, metrics
