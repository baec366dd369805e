"""FeaturizationPlan: decide each column's purpose from the profile, compute its
statistics (one Spark job for all category vocabularies; pandas for rows the driver already
holds), and hand the result to
AutoFeaturizer, which applies it anywhere with pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import pyspark.sql.functions as F
from pyspark.sql import DataFrame, Window

from ..data.profile import ColumnProfile, DataProfile
from ..errors import ConfigError
from ..spark_utils import col
from .config import FeaturizationConfig
from .transformer import AutoFeaturizer, ColumnPlan

MAX_ONE_HOT = 64          # distinct values up to which a string column is one-hot encoded
ID_LIKE_RATIO = 0.97      # distinct / non-null above which a column identifies rows
TEXT_MIN_AVG_LENGTH = 25  # long high-cardinality strings are free text, not categories
DEFAULT_HASH_BITS = 6
TARGET_CODES = 2000  # values of a hashed column that get their own target encoding; the rarer share one
DEFAULT_TEXT_BITS = 8
DATETIME_RATIO = 0.95


@dataclass
class FeaturizationPlan:
    columns: list[ColumnPlan]
    mode: str  # auto | off | custom
    notes: list[str] = field(default_factory=list)

    def featurizer(self) -> AutoFeaturizer:
        return AutoFeaturizer(plans=self.columns).fit()

    def by_purpose(self, purpose: str) -> list[ColumnPlan]:
        return [c for c in self.columns if c.purpose == purpose]


def build_plan(
    df: DataFrame | pd.DataFrame,
    profile: DataProfile,
    feature_columns: Sequence[str],
    featurization: str | FeaturizationConfig,
    *,
    onnx_compatible: bool = False,
    target_encoding: bool = False,
) -> FeaturizationPlan:
    """onnx_compatible: use only purposes spark_automl.export.onnx reproduces exactly
    (hashed columns become one-hot over their most frequent values; datetime and text are dropped).
    target_encoding: hashed (high-cardinality) columns also give their value's code among the
    TARGET_CODES most frequent, which the learners target-encode inside each fit."""
    custom = featurization if isinstance(featurization, FeaturizationConfig) else None
    if custom is not None:
        unknown = sorted(custom.referenced_columns() - set(profile.columns))
        if unknown:
            raise ConfigError(
                f"FeaturizationConfig refers to column(s) {unknown} that are not in training_data. "
                f"Available columns: {sorted(profile.columns)}."
            )
    mode = "off" if featurization == "off" else ("custom" if custom else "auto")
    plans = [_decide(profile.columns[name], profile.n_rows, mode, custom) for name in feature_columns]
    if onnx_compatible:
        plans = [_onnx_compatible(p, profile.columns[p.name], custom) for p in plans]
    coded = [p for p in plans if p.purpose == "hash"] if target_encoding and not onnx_compatible else []
    _fill_vocabularies(df, [p for p in plans if p.purpose == "categorical"], custom, coded)
    if custom is not None:
        _apply_median_imputation(df, plans, custom)
    return FeaturizationPlan(columns=plans, mode=mode)


def _decide(c: ColumnProfile, n_rows: int, mode: str, custom: FeaturizationConfig | None) -> ColumnPlan:
    blocked = set(custom.blocked_transformers) if custom else set()
    if mode == "off":
        if c.kind in ("numeric", "boolean"):
            return ColumnPlan(c.name, "numeric", "featurization='off': passed through", mean=0.0, scale=1.0,
                              fill_value=float("nan"))
        return ColumnPlan(c.name, "drop", f"featurization='off': non-numeric column ({c.spark_type}) cannot be used")
    if custom and c.name in custom.drop_columns:
        return ColumnPlan(c.name, "drop", "dropped by FeaturizationConfig")
    purpose = _purpose_from_config(c, custom) or _auto_purpose(c, n_rows)
    limit = (custom.params_for("OneHotEncoder", c.name) if custom else {}).get("max_categories")
    if purpose == "hash" and limit and c.distinct <= limit and c.name not in custom.column_purposes:
        purpose = "categorical"  # OneHotEncoder max_categories above the default cap: one-hot it
    if isinstance(purpose, ColumnPlan):
        return purpose
    plan = ColumnPlan(c.name, purpose, "set by FeaturizationConfig" if custom and c.name in custom.column_purposes else "")
    missing = c.non_null < n_rows
    plan.missing_indicator = missing and "MissingIndicator" not in blocked
    if purpose == "numeric":
        plan.mean = c.mean if c.mean is not None else 0.0
        std = c.std if c.std else 1.0
        plan.scale = 1.0 if "StandardScaler" in blocked else (std if std > 1e-12 else 1.0)
        if "StandardScaler" in blocked:
            plan.mean, plan.fill_value = 0.0, (c.mean or 0.0)
        plan.reason = plan.reason or ("mean-imputed, standardised" if missing else "standardised")
    elif purpose == "categorical" and "OneHotEncoder" in blocked:
        plan.purpose = "hash"
    if plan.purpose == "hash":
        if "HashOneHotEncoder" in blocked:
            return ColumnPlan(c.name, "drop", "high cardinality and HashOneHotEncoder blocked")
        bits = (custom.params_for("HashOneHotEncoder", c.name) if custom else {}).get("number_of_bits", DEFAULT_HASH_BITS)
        plan.n_buckets = 2 ** bits
        plan.reason = plan.reason or f"high cardinality ({c.distinct} values): hashed one-hot into {plan.n_buckets} buckets"
    elif plan.purpose == "text":
        if "TfIdf" in blocked:
            return ColumnPlan(c.name, "drop", "free text and TfIdf blocked")
        params = custom.params_for("TfIdf", c.name) if custom else {}
        plan.n_buckets = 2 ** params.get("number_of_bits", DEFAULT_TEXT_BITS)
        plan.ngram_max = params.get("ngram_max", 2)
        plan.reason = plan.reason or f"free text: hashed word 1-{plan.ngram_max}-gram term frequencies"
    elif plan.purpose == "categorical":
        plan.reason = plan.reason or f"{c.distinct} categories: one-hot"
    elif plan.purpose == "datetime":
        plan.reason = plan.reason or "datetime parts (year .. second)"
    return plan


def _onnx_compatible(plan: ColumnPlan, c: ColumnProfile, custom: FeaturizationConfig | None) -> ColumnPlan:
    """Swap purposes that have no exact ONNX graph (hash, datetime, text) for ones that do."""
    if plan.purpose == "hash":
        if custom and "OneHotEncoder" in custom.blocked_transformers:
            return ColumnPlan(c.name, "drop", "dropped: not ONNX-convertible (hash) and OneHotEncoder blocked")
        plan.purpose, plan.n_buckets = "categorical", 0
        plan.reason = (f"high cardinality ({c.distinct} values): one-hot over the {MAX_ONE_HOT} most frequent, "
                       "the rest as __other__ (ONNX-compatible)")
    elif plan.purpose in ("datetime", "text"):
        return ColumnPlan(c.name, "drop", f"dropped: not ONNX-convertible ({plan.purpose})")
    return plan


_PURPOSE_MAP = {"Numeric": "numeric", "Categorical": "categorical", "CategoricalHash": "hash",
                "DateTime": "datetime", "Text": "text"}


def _purpose_from_config(c: ColumnProfile, custom: FeaturizationConfig | None):
    if not custom or c.name not in custom.column_purposes:
        return None
    purpose = custom.column_purposes[c.name]
    if purpose == "Ignore":
        return ColumnPlan(c.name, "drop", "purpose 'Ignore' set by FeaturizationConfig")
    return _PURPOSE_MAP[purpose]


def _auto_purpose(c: ColumnProfile, n_rows: int):
    if c.non_null == 0:
        return ColumnPlan(c.name, "drop", "all values missing")
    if c.distinct <= 1:
        return ColumnPlan(c.name, "drop", "constant column (one distinct value)")
    if c.kind == "boolean":
        return "numeric"
    if c.kind == "numeric":
        if c.is_integer and n_rows >= 100 and c.distinct >= ID_LIKE_RATIO * c.non_null:
            return ColumnPlan(c.name, "drop", f"ID-like integer column ({c.distinct} distinct in {c.non_null} rows)")
        return "numeric"
    if c.kind == "datetime":
        return "datetime"
    if c.kind != "string":
        return ColumnPlan(c.name, "drop", f"unsupported type {c.spark_type}")
    if (c.numeric_ratio or 0) >= 0.99 and c.distinct > MAX_ONE_HOT:
        return "numeric"
    if (c.datetime_ratio or 0) >= DATETIME_RATIO and (c.numeric_ratio or 0) < 0.5:
        return "datetime"
    if c.distinct <= MAX_ONE_HOT:
        return "categorical"
    if (c.avg_length or 0) >= TEXT_MIN_AVG_LENGTH:
        return "text"
    if n_rows >= 100 and c.distinct >= ID_LIKE_RATIO * c.non_null:
        return ColumnPlan(c.name, "drop", f"ID-like string column ({c.distinct} distinct in {c.non_null} rows)")
    return "hash"


def _fill_vocabularies(df: DataFrame, plans: list[ColumnPlan], custom: FeaturizationConfig | None = None,
                       coded: list[ColumnPlan] = ()) -> None:
    """Top categories of every categorical column in ONE Spark job (stack + groupBy + window): up to
    OneHotEncoder's max_categories (default MAX_ONE_HOT) per column, the rest one 'other' column.
    Missing values take the most frequent category, or the Imputer's constant fill_value. The same
    job gives the `coded` (hashed) columns their TARGET_CODES most frequent values."""
    if not plans and not coded:
        return
    limits = {p.name: int((custom.params_for("OneHotEncoder", p.name) if custom else {}).get(
        "max_categories", MAX_ONE_HOT)) for p in plans}
    limits.update({p.name: TARGET_CODES for p in coded})
    both = [*plans, *coded]
    top = _top_values_local if isinstance(df, pd.DataFrame) else _top_values_spark
    vocab = top(df, [p.name for p in both], max(limits.values()))
    for p in coded:
        p.codes = [v for _, v in sorted(vocab.get(p.name, []))][:TARGET_CODES]
        p.reason += f"; target-encoded in each fit over its {len(p.codes)} most frequent values"
    for p in plans:
        p.vocabulary = [v for _, v in sorted(vocab.get(p.name, []))][:limits[p.name]]
        p.fill_value = p.vocabulary[0] if p.vocabulary else None  # most frequent, Azure's categorical impute
        if limits[p.name] != MAX_ONE_HOT:
            p.reason = (p.reason + "; " if p.reason else "") + f"max_categories={limits[p.name]}"
        imputer = custom.params_for("Imputer", p.name) if custom else {}
        strategy = imputer.get("strategy")
        if strategy in ("mean", "median"):
            raise ConfigError(f"Imputer strategy {strategy!r} is for numeric columns; column {p.name!r} is "
                              "categorical. Use 'most_frequent' or 'constant' (with fill_value).")
        if strategy == "constant":
            p.fill_value = str(imputer.get("fill_value", "missing"))
            if p.fill_value not in p.vocabulary:
                p.vocabulary.append(p.fill_value)
            p.missing_indicator = False  # the missing rows are the fill value's category
            p.reason = (p.reason + "; " if p.reason else "") + f"missing -> {p.fill_value!r}"


def _top_values_spark(df: DataFrame, names: list[str], limit: int) -> dict[str, list[tuple[int, str]]]:
    """Each column's `limit` most frequent values as text, ties by value, in ONE job (stack + groupBy + window)."""
    pairs = F.array(*[F.struct(F.lit(n).alias("k"), col(n).cast("string").alias("v")) for n in names])
    counts = (
        df.select(F.explode(pairs).alias("kv")).select("kv.k", "kv.v").where(F.col("v").isNotNull())
        .groupBy("k", "v").count()
    )
    rank = F.row_number().over(Window.partitionBy("k").orderBy(F.desc("count"), F.asc("v")))
    vocab: dict[str, list[tuple[int, str]]] = {}
    for r in counts.withColumn("r", rank).where(F.col("r") <= limit).collect():
        vocab.setdefault(r["k"], []).append((r["r"], r["v"]))
    return vocab


def _top_values_local(df: pd.DataFrame, names: list[str], limit: int) -> dict[str, list[tuple[int, str]]]:
    """The same ranking for rows the driver holds, with the featurizer's own text form of a value."""
    vocab: dict[str, list[tuple[int, str]]] = {}
    for name in names:
        counts = df[name].dropna().astype(str).value_counts()
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        vocab[name] = [(r + 1, v) for r, (v, _) in enumerate(ranked)]
    return vocab


def _apply_median_imputation(df: DataFrame, plans: list[ColumnPlan], custom: FeaturizationConfig) -> None:
    wanted = {p.name: custom.params_for("Imputer", p.name) for p in plans if p.purpose == "numeric"}
    medians = [n for n, params in wanted.items() if params.get("strategy") == "median"]
    stats = {}
    if medians and isinstance(df, pd.DataFrame):  # percentile_approx's answer: the lower median
        stats = {n: float(np.percentile(pd.to_numeric(df[n], errors="coerce").dropna().to_numpy(np.float64), 50,
                                        method="inverted_cdf")) for n in medians}
    elif medians:
        row = df.select(*[F.percentile_approx(col(n).cast("double"), 0.5).alias(f"m{i}") for i, n in enumerate(medians)]).collect()[0]
        stats = {n: row[f"m{i}"] for i, n in enumerate(medians)}
    for p in plans:
        params = wanted.get(p.name, {})
        strategy = params.get("strategy")
        if strategy == "median":
            p.fill_value = stats[p.name]
        elif strategy == "constant":
            p.fill_value = float(params.get("fill_value", 0.0))
        elif strategy == "most_frequent":
            raise ConfigError(f"Imputer strategy 'most_frequent' is for categorical columns; column {p.name!r} is numeric. Use 'mean', 'median' or 'constant'.")
        if strategy:
            p.reason = f"{strategy}-imputed" + (", standardised" if p.scale != 1.0 else "")
