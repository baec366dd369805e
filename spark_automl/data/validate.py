"""Checks on the user's data that fail fast, before any training, naming the column and the fix."""

from __future__ import annotations

from typing import Sequence

from pyspark.sql import DataFrame

from ..errors import DataError
from .profile import DataProfile


def check_schema(df: DataFrame, label: str, weight: str | None, cv_columns: Sequence[str] | None,
                 role: str = "training_data") -> None:
    columns = df.columns
    if label not in columns:
        raise DataError(
            f"label_column_name {label!r} is not a column of {role}. Available columns: {columns}."
        )
    if weight is not None and weight not in columns:
        raise DataError(f"weight_column_name {weight!r} is not a column of {role}. Available columns: {columns}.")
    for name in cv_columns or []:
        if name not in columns:
            raise DataError(f"cv_split_column_names entry {name!r} is not a column of {role}. Available columns: {columns}.")


def check_same_columns(train: DataFrame, other: DataFrame, role: str) -> None:
    """validation_data/test_data must carry the training columns (extra columns are ignored)."""
    missing = [c for c in train.columns if c not in other.columns]
    if missing:
        raise DataError(
            f"{role} lacks column(s) {missing} that training_data has. "
            f"Give {role} the same columns as training_data."
        )


def check_profile(profile: DataProfile, classification: bool, weight: str | None, exclude_nan_labels: bool,
                  positive_label=None) -> None:
    label = profile.label
    if profile.n_rows == 0:
        raise DataError("training_data has no rows. Pass a DataFrame with at least one labelled row.")
    if profile.n_labeled == 0:
        raise DataError(
            f"Label column {label!r} is null in all {profile.n_rows} rows. Choose the column that holds the target."
        )
    if profile.n_label_missing and not exclude_nan_labels:
        raise DataError(
            f"Label column {label!r} is missing in {profile.n_label_missing} rows and exclude_nan_labels=False. "
            "Fill or drop those rows, or set exclude_nan_labels=True to drop them."
        )
    if classification:
        if len(profile.label_counts) < 2:
            only = list(profile.label_counts)
            raise DataError(
                f"Label column {label!r} has a single class {only}; classification needs at least two. "
                "Check the label column or use task='regression'."
            )
        if positive_label is not None and positive_label not in profile.label_counts:
            raise DataError(
                f"positive_label {positive_label!r} is not a value of label column {label!r}. "
                f"Classes: {sorted(map(str, profile.label_counts))}."
            )
    else:
        lab = profile.columns[label]
        if lab.kind not in ("numeric", "boolean"):
            raise DataError(
                f"Label column {label!r} has type {lab.spark_type}; regression needs a numeric label. "
                "Cast it to a number or use task='classification'."
            )
    if weight is not None:
        w = profile.columns[weight]
        if w.kind not in ("numeric", "boolean"):
            raise DataError(f"weight_column_name {weight!r} has type {w.spark_type}; weights must be numeric.")
        if w.min is not None and w.min < 0:
            raise DataError(
                f"weight_column_name {weight!r} has negative values (min {w.min}); sample weights must be >= 0."
            )
        if w.non_null < profile.n_rows:
            raise DataError(
                f"weight_column_name {weight!r} is missing in {profile.n_rows - w.non_null} rows; fill them (e.g. with 1.0)."
            )
