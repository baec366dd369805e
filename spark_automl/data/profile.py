"""DataProfile: ONE Spark aggregation job describing every column and the label.

The job groups by the label (classification) or a constant (regression), then folds
the groups together; HyperLogLog sketches merge across groups, so the class counts,
missing labels and per-column statistics all come back from a single action.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pyspark.sql.functions as F
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from ..spark_utils import INTEGER_TYPES, INTERNAL_COLUMNS, NUMERIC_TYPES, col, try_double

_GROUP = "__group__"


@dataclass
class ColumnProfile:
    name: str
    spark_type: str
    kind: str  # numeric | boolean | string | datetime | other
    non_null: int
    distinct: int
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    avg_length: float | None = None
    numeric_ratio: float | None = None  # string columns: share of values that parse as numbers
    datetime_ratio: float | None = None  # string columns: share of values that parse as timestamps
    is_integer: bool = False
    n_infinite: int = 0  # numeric columns: +-inf values (left out of the statistics, imputed like missing)

    def missing(self, n_rows: int) -> int:
        return n_rows - self.non_null


@dataclass
class DataProfile:
    n_rows: int
    columns: dict[str, ColumnProfile]
    label: str | None = None
    label_counts: dict[Any, int] = field(default_factory=dict)  # classification only, non-null labels
    n_label_missing: int = 0

    @property
    def n_labeled(self) -> int:
        return self.n_rows - self.n_label_missing


def _kind(dtype: T.DataType) -> str:
    if isinstance(dtype, T.BooleanType):
        return "boolean"
    if isinstance(dtype, NUMERIC_TYPES):
        return "numeric"
    if isinstance(dtype, T.StringType):
        return "string"
    if isinstance(dtype, (T.TimestampType, T.DateType, T.TimestampNTZType)):
        return "datetime"
    return "other"


def label_missing(df: DataFrame, label: str):
    """Null, or NaN for float labels: both mean 'no target' and the row is dropped."""
    c = col(label)
    if isinstance(df.schema[label].dataType, (T.FloatType, T.DoubleType)):
        return c.isNull() | F.isnan(c)
    return c.isNull()


def profile(df: DataFrame, label: str | None, classification: bool) -> DataProfile:
    fields = [f for f in df.schema.fields if f.name not in INTERNAL_COLUMNS]
    group_key = col(label).alias(_GROUP) if (classification and label) else F.lit(0).alias(_GROUP)
    inner, outer = [F.count(F.lit(1)).alias("n")], [F.sum("n").alias("n")]
    if label:
        inner.append(F.sum(F.when(label_missing(df, label), 1).otherwise(0)).alias("label_missing"))
        outer.append(F.sum("label_missing").alias("label_missing"))
    for i, f in enumerate(fields):
        c, kind, p = col(f.name), _kind(f.dataType), f"c{i}_"
        inner += [F.count(c).alias(p + "nn"), F.hll_sketch_agg(c.cast("string")).alias(p + "hll")]
        outer += [F.sum(p + "nn").alias(p + "nn"), F.hll_sketch_estimate(F.hll_union_agg(p + "hll", True)).alias(p + "distinct")]
        if kind in ("numeric", "boolean"):
            raw = c.cast("double")
            infinite = F.abs(raw) == F.lit(float("inf"))
            x = F.when(F.isnan(raw) | infinite, None).otherwise(raw)
            inner += [F.sum(x).alias(p + "s"), F.sum(x * x).alias(p + "ss"), F.min(x).alias(p + "min"),
                      F.max(x).alias(p + "max"), F.sum(F.when(infinite, 1).otherwise(0)).alias(p + "inf")]
            outer += [F.sum(p + "s").alias(p + "s"), F.sum(p + "ss").alias(p + "ss"), F.min(p + "min").alias(p + "min"),
                      F.max(p + "max").alias(p + "max"), F.sum(p + "inf").alias(p + "inf")]
        elif kind == "string":
            inner += [
                F.sum(F.length(c)).alias(p + "len"),
                F.count(try_double(f.name)).alias(p + "num"),
                F.count(F.try_to_timestamp(c)).alias(p + "ts"),
            ]
            outer += [F.sum(p + "len").alias(p + "len"), F.sum(p + "num").alias(p + "num"), F.sum(p + "ts").alias(p + "ts")]
    if classification and label:
        outer.append(F.collect_list(F.struct(F.col(_GROUP).alias("label"), F.col("n").alias("n"))).alias("classes"))
    row = df.groupBy(group_key).agg(*inner).agg(*outer).collect()[0].asDict()
    n_rows = int(row["n"] or 0)
    columns = {}
    for i, f in enumerate(fields):
        p, kind = f"c{i}_", _kind(f.dataType)
        nn = int(row[p + "nn"] or 0)
        prof = ColumnProfile(
            name=f.name, spark_type=f.dataType.simpleString(), kind=kind, non_null=nn,
            distinct=int(row[p + "distinct"] or 0), is_integer=isinstance(f.dataType, INTEGER_TYPES),
        )
        if kind in ("numeric", "boolean") and nn:
            s, ss = float(row[p + "s"] or 0.0), float(row[p + "ss"] or 0.0)
            mean = s / nn
            prof.mean, prof.std = mean, math.sqrt(max(ss / nn - mean * mean, 0.0))
            prof.min, prof.max = row[p + "min"], row[p + "max"]
            prof.n_infinite = int(row[p + "inf"] or 0)
        elif kind == "string" and nn:
            prof.avg_length = float(row[p + "len"] or 0) / nn
            prof.numeric_ratio = float(row[p + "num"] or 0) / nn
            prof.datetime_ratio = float(row[p + "ts"] or 0) / nn
        columns[f.name] = prof
    result = DataProfile(n_rows=n_rows, columns=columns, label=label, n_label_missing=int(row.get("label_missing") or 0))
    if classification and label:
        result.label_counts = {
            r["label"]: int(r["n"]) for r in row["classes"]
            if r["label"] is not None and not (isinstance(r["label"], float) and math.isnan(r["label"]))
        }
    return result


# ---- the same profile from a pandas frame the driver already holds (no Spark job) ---------------
# Spark's cast of a string to a timestamp: [+-]yyyy[-[m]m[-[d]d[( |T)[h]h:[m]m[:[s]s[.fraction]]]]][zone]
_TIMESTAMP_TEXT = (r"^\s*[+-]?\d{4,}(-\d{1,2}(-\d{1,2}([ T]\d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,9})?)?)?\s*)?)?"
                   r"(Z|[+-]\d{1,2}(:?\d{2})?|\s*[A-Za-z_]+(/[A-Za-z_]+)*)?\s*$")


def label_missing_mask(frame, label: str):
    """label_missing for pandas: null or NaN."""
    return frame[label].isna().to_numpy()


def profile_frame(frame, schema: T.StructType, label: str | None, classification: bool) -> DataProfile:
    """`profile` for input the driver already holds as pandas: the kinds come from the Spark schema
    the frame converts to, the statistics from the pandas values (distinct counts are exact here,
    HyperLogLog estimates in Spark)."""
    import numpy as np
    import pandas as pd

    n_rows = len(frame)
    columns = {}
    for f in schema.fields:
        if f.name in INTERNAL_COLUMNS:
            continue
        kind, values = _kind(f.dataType), frame[f.name]
        present = values[values.notna()]
        prof = ColumnProfile(name=f.name, spark_type=f.dataType.simpleString(), kind=kind, non_null=len(present),
                             distinct=int(present.nunique()), is_integer=isinstance(f.dataType, INTEGER_TYPES))
        if kind in ("numeric", "boolean") and len(present):
            x = pd.to_numeric(present, errors="coerce").astype(np.float64).to_numpy()
            infinite = np.isinf(x)
            finite = x[np.isfinite(x)]
            if len(finite):
                mean = float(finite.sum()) / len(present)  # Spark divides the sum by the non-null count too
                prof.mean = mean
                prof.std = math.sqrt(max(float((finite * finite).sum()) / len(present) - mean * mean, 0.0))
                prof.min, prof.max = float(finite.min()), float(finite.max())
            prof.n_infinite = int(infinite.sum())
        elif kind == "string" and len(present):
            text = present.astype(str)
            prof.avg_length = float(text.str.len().sum()) / len(present)
            prof.numeric_ratio = float(pd.to_numeric(text.str.strip(), errors="coerce").notna().sum()) / len(present)
            prof.datetime_ratio = float(text.str.match(_TIMESTAMP_TEXT).sum()) / len(present)
        columns[f.name] = prof
    missing = int(label_missing_mask(frame, label).sum()) if label else 0
    result = DataProfile(n_rows=n_rows, columns=columns, label=label, n_label_missing=missing)
    if classification and label:
        counts = frame[label].dropna().value_counts(sort=False)
        result.label_counts = {_python(k): int(n) for k, n in counts.items()}
    return result


def _python(value: Any) -> Any:
    """numpy scalars as the Python values Spark's collect would give."""
    return value.item() if hasattr(value, "item") else value
