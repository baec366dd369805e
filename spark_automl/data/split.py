"""Validation technique (Azure's default rules) and seeded fold assignment inside Spark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyspark.sql.functions as F
from pyspark.sql import Column, DataFrame, Window

from ..spark_utils import FOLD, IS_TEST, ROW_ID, col

HOLDOUT_ABOVE_ROWS = 20_000
TEN_FOLDS_BELOW_ROWS = 1_000
DEFAULT_VALIDATION_SIZE = 0.1
TEST_SEED_OFFSET = 7919  # the test split's shuffle differs from the folds'


@dataclass(frozen=True)
class ValidationTechnique:
    kind: str  # "holdout" | "cv" | "user_validation" | "user_cv_columns"
    n_folds: int = 0
    validation_size: float = 0.0
    reason: str = ""

    def describe(self) -> str:
        if self.kind == "cv":
            return f"{self.n_folds}-fold cross-validation"
        if self.kind == "holdout":
            return f"train/validation split, {self.validation_size:.0%} validation"
        if self.kind == "user_validation":
            return "user-provided validation_data"
        return f"user-provided CV split columns ({self.n_folds} splits)"


def choose_technique(n_rows: int, n_cross_validations, validation_size, has_validation_data: bool,
                     cv_split_column_names) -> ValidationTechnique:
    """Azure's rules: >20k rows -> 10% holdout; 1k..20k -> 3 folds; <1k -> 10 folds."""
    if has_validation_data:
        return ValidationTechnique("user_validation", reason="validation_data was given")
    if cv_split_column_names:
        return ValidationTechnique("user_cv_columns", n_folds=len(cv_split_column_names), reason="cv_split_column_names was given")
    if isinstance(n_cross_validations, int):
        return ValidationTechnique("cv", n_folds=n_cross_validations, reason="n_cross_validations was given")
    if validation_size is not None:
        return ValidationTechnique("holdout", validation_size=validation_size, reason="validation_size was given")
    if n_rows > HOLDOUT_ABOVE_ROWS:
        return ValidationTechnique("holdout", validation_size=DEFAULT_VALIDATION_SIZE,
                                   reason=f"{n_rows} rows > {HOLDOUT_ABOVE_ROWS}: Azure default 10% holdout")
    folds = 10 if n_rows < TEN_FOLDS_BELOW_ROWS else 3
    return ValidationTechnique("cv", n_folds=folds, reason=f"{n_rows} rows: Azure default {folds}-fold cross-validation")


def _rank(seed: int, stratify: str | None) -> tuple[Column, Column]:
    """(1-based position of the row in a seeded shuffle of its stratum, stratum size)."""
    order = F.xxhash64(col(ROW_ID), F.lit(seed))
    part = Window.partitionBy(col(stratify)) if stratify else Window.partitionBy(F.lit(0))
    return F.row_number().over(part.orderBy(order, col(ROW_ID))), F.count(F.lit(1)).over(part)


def _pick_fraction(position: Column, fraction: float) -> Column:
    """Exactly round(n * fraction) rows, spread evenly over the shuffled order."""
    return F.floor(position * F.lit(fraction)) > F.floor((position - 1) * F.lit(fraction))


def assign_test(df: DataFrame, test_size: float | None, seed: int, stratify: str | None) -> DataFrame:
    if not test_size:
        return df.withColumn(IS_TEST, F.lit(False))
    position, _ = _rank(seed + TEST_SEED_OFFSET, stratify)
    return df.withColumn(IS_TEST, _pick_fraction(position, test_size))


def assign_folds(df: DataFrame, technique: ValidationTechnique, seed: int, stratify: str | None) -> DataFrame:
    """FOLD = fold id (cv) or 1 for validation rows / 0 for training rows (holdout).

    Stratified by the label for classification: every class is spread evenly, so a
    class with 5 rows still lands in 5 different folds.
    """
    if technique.kind == "cv":
        position, _ = _rank(seed, stratify)
        return df.withColumn(FOLD, ((position - 1) % technique.n_folds).cast("int"))
    if technique.kind == "holdout":
        position, _ = _rank(seed, stratify)
        return df.withColumn(FOLD, _pick_fraction(position, technique.validation_size).cast("int"))
    return df.withColumn(FOLD, F.lit(0))


# ---- the same assignment for rows the driver holds (pandas input), without a Spark job ----------
# Spark's xxhash64(row_id, seed) is reproduced bit for bit, so a frame gets the same folds whichever
# side assigns them, given the same row ids.
_P1, _P2, _P3, _P4, _P5 = (np.uint64(v) for v in (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                                                  0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5))
SPARK_HASH_SEED = 42  # F.xxhash64's seed


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _fmix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * _P2
    h = h ^ (h >> np.uint64(29))
    h = h * _P3
    return h ^ (h >> np.uint64(32))


def spark_xxhash64(row_ids: np.ndarray, seed: int) -> np.ndarray:
    """F.xxhash64(row_id: long, lit(seed): int) as int64: XXH64 of the long, then of the int."""
    with np.errstate(over="ignore"):
        x = np.asarray(row_ids, dtype=np.int64).view(np.uint64)
        h = np.full(len(x), SPARK_HASH_SEED, dtype=np.uint64) + _P5 + np.uint64(8)
        h = h ^ (_rotl(x * _P2, 31) * _P1)
        h = _fmix(_rotl(h, 27) * _P1 + _P4)
        h = h + _P5 + np.uint64(4)
        h = h ^ (np.uint64(np.int64(seed).astype(np.uint32)) * _P1)
        h = _fmix(_rotl(h, 23) * _P2 + _P3)
    return h.view(np.int64)


def _positions(row_ids: np.ndarray, seed: int, strata: np.ndarray | None) -> np.ndarray:
    """1-based position of each row in its stratum's seeded shuffle (`_rank`'s row_number)."""
    order_key = spark_xxhash64(row_ids, seed)
    group = np.zeros(len(row_ids), dtype=np.int64) if strata is None else \
        pd.factorize(pd.Series(strata), sort=False)[0].astype(np.int64)
    order = np.lexsort((row_ids, order_key, group))
    position = np.empty(len(row_ids), dtype=np.int64)
    sorted_group = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_group)) + 1]
    run = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    position[order] = run + 1
    return position


def _fraction_mask(position: np.ndarray, fraction: float) -> np.ndarray:
    p = position.astype(np.float64)
    return np.floor(p * fraction) > np.floor((p - 1) * fraction)


def held_out_mask(row_ids: np.ndarray, test_size: float | None, seed: int, strata: np.ndarray | None) -> np.ndarray:
    """assign_test's IS_TEST for rows on the driver."""
    if not test_size:
        return np.zeros(len(row_ids), dtype=bool)
    return _fraction_mask(_positions(row_ids, seed + TEST_SEED_OFFSET, strata), test_size)


def fold_ids(row_ids: np.ndarray, technique: ValidationTechnique, seed: int, strata: np.ndarray | None) -> np.ndarray:
    """assign_folds' FOLD for rows on the driver."""
    if technique.kind == "cv":
        return ((_positions(row_ids, seed, strata) - 1) % technique.n_folds).astype(np.int32)
    if technique.kind == "holdout":
        return _fraction_mask(_positions(row_ids, seed, strata), technique.validation_size).astype(np.int32)
    return np.zeros(len(row_ids), dtype=np.int32)
