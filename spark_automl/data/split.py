"""Validation technique (Azure's default rules) and seeded fold assignment inside Spark."""

from __future__ import annotations

from dataclasses import dataclass

import pyspark.sql.functions as F
from pyspark.sql import Column, DataFrame, Window

from ..spark_utils import FOLD, IS_TEST, ROW_ID, col

HOLDOUT_ABOVE_ROWS = 20_000
TEN_FOLDS_BELOW_ROWS = 1_000
DEFAULT_VALIDATION_SIZE = 0.1


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
    position, _ = _rank(seed + 7919, stratify)
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
