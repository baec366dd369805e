"""Checks on the user's data that fail fast, before any training, naming the column and the fix."""

from __future__ import annotations

from typing import Sequence

import pandas as pd
from pyspark.sql import DataFrame

from ..errors import DataError
from .profile import DataProfile


MIN_LABELLED_ROWS = 10  # fewer cannot be split into training and validation rows meaningfully
MAX_CLASSES = 1000
MAX_CLASS_SHARE_OF_ROWS = 0.2  # more classes than a fifth of the rows: an ID or a regression target
FEW_CLASSES = 50  # up to this many classes the share rule does not apply (small data)


def check_column_names(df: DataFrame, role: str = "training_data") -> None:
    """Spark resolves names case-insensitively and the library adds its own columns: a name
    used twice, or one of the library's, would be ambiguous or overwritten."""
    from ..spark_utils import INTERNAL_COLUMNS

    seen: dict[str, str] = {}
    for name in df.columns:
        if name in INTERNAL_COLUMNS:
            raise DataError(f"{role} has a column named {name!r}, a name spark-automl uses internally "
                            f"({', '.join(INTERNAL_COLUMNS)}). Rename that column.")
        other = seen.get(name.lower())
        if other is not None:
            raise DataError(f"{role} has the columns {other!r} and {name!r}, the same name for Spark (column names "
                            "are case-insensitive). Rename one of them.")
        seen[name.lower()] = name


def check_schema(df: DataFrame, label: str, weight: str | None, cv_columns: Sequence[str] | None,
                 role: str = "training_data") -> None:
    check_column_names(df, role)
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
    """validation_data/test_data must carry the training columns (extra columns are ignored),
    with types Spark can union: a string column where training has a number is refused here."""
    check_column_names(other, role)
    missing = [c for c in train.columns if c not in other.columns]
    if missing:
        raise DataError(
            f"{role} lacks column(s) {missing} that training_data has. "
            f"Give {role} the same columns as training_data."
        )
    for name in train.columns:
        a, b = train.schema[name].dataType, other.schema[name].dataType
        if _type_family(a) != _type_family(b):
            raise DataError(f"Column {name!r} is {a.simpleString()} in training_data but {b.simpleString()} in {role}. "
                            f"Give it the same type in both (cast one of them).")


def _type_family(dtype) -> str:
    from pyspark.sql import types as T

    if isinstance(dtype, T.BooleanType):
        return "boolean"
    if isinstance(dtype, T.NumericType):
        return "number"
    if isinstance(dtype, (T.TimestampType, T.DateType, T.TimestampNTZType)):
        return "datetime"
    if isinstance(dtype, T.NullType):
        return "any"
    return type(dtype).__name__


def check_cv_columns(profile: DataProfile, cv_columns: Sequence[str] | None) -> None:
    """Azure's cv_split_column_names: 1 = the row trains in this split, 0 = it validates."""
    for name in cv_columns or []:
        c = profile.columns[name]
        if c.kind not in ("numeric", "boolean"):
            raise DataError(f"cv_split_column_names entry {name!r} has type {c.spark_type}; it must hold 1 (train) "
                            "and 0 (validate) in every row.")
        if c.non_null < profile.n_rows:
            raise DataError(f"cv_split_column_names entry {name!r} is missing in {profile.n_rows - c.non_null} rows; "
                            "every row needs 1 (train) or 0 (validate).")
        if c.min is None:
            raise DataError(f"cv_split_column_names entry {name!r} has no numeric values; it must hold 1 (train) "
                            "and 0 (validate).")
        if c.min < 0 or c.max > 1 or c.distinct > 2:
            raise DataError(f"cv_split_column_names entry {name!r} holds values from {c.min:g} to {c.max:g}; only 1 "
                            "(train) and 0 (validate) are allowed.")
        if c.min == c.max:
            side = "trains" if c.max == 1 else "validates"
            raise DataError(f"cv_split_column_names entry {name!r} is {c.max:g} in every row: every row {side}, so "
                            "the split has no " + ("validation" if c.max == 1 else "training") + " rows. Mark some "
                            "rows 0 (validate) and the others 1 (train).")


def check_training_rows(profile: DataProfile, test_size: float | None, n_folds: int | None) -> None:
    """Enough labelled rows to train, validate and (with test_size) test."""
    n = profile.n_labeled
    n_train = n - int(round(n * test_size)) if test_size else n
    needed = max(MIN_LABELLED_ROWS, n_folds or 0)
    if n_train < needed:
        why = f" after test_size={test_size} holds out {n - n_train}" if test_size else ""
        folds = f" (n_cross_validations={n_folds} needs a row per fold at least)" if n_folds and n_folds > MIN_LABELLED_ROWS else ""
        raise DataError(f"training_data has {n_train} labelled rows to train on{why}; at least {needed} are needed"
                        f"{folds}. Pass more rows" + (", or a smaller test_size." if test_size else "."))


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
        if profile.columns[label].kind == "datetime":
            raise DataError(f"Label column {label!r} holds dates/times ({profile.columns[label].spark_type}); "
                            "classification needs class values. Cast it to a string of categories, or forecast it.")
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
        counts = profile.label_counts
        n_classes = len(counts)
        if n_classes > MAX_CLASSES or (n_classes > FEW_CLASSES and n_classes > MAX_CLASS_SHARE_OF_ROWS * profile.n_labeled):
            raise DataError(
                f"Label column {label!r} has {n_classes} classes in {profile.n_labeled} rows: too many to learn "
                f"(at most {MAX_CLASSES}, and a fifth of the rows). Is it an ID, or a number to predict with "
                "task='regression'?")
        singles = sorted((k for k, v in counts.items() if v < 2), key=str)
        if singles:
            raise DataError(
                f"Label column {label!r} has {len(singles)} class(es) with a single row, e.g. {singles[:5]}: a class "
                "needs at least 2 rows to be trained on and validated. Drop or merge those rows.")
    else:
        lab = profile.columns[label]
        if lab.kind not in ("numeric", "boolean"):
            raise DataError(
                f"Label column {label!r} has type {lab.spark_type}; regression needs a numeric label. "
                "Cast it to a number or use task='classification'."
            )
        if lab.n_infinite:
            raise DataError(f"Label column {label!r} has {lab.n_infinite} infinite value(s); regression needs finite "
                            "targets. Drop or fix those rows.")
        if lab.distinct <= 1 or (lab.std is not None and lab.std == 0.0):
            raise DataError(f"Label column {label!r} is constant ({lab.min}); there is nothing to learn. Check the "
                            "label column.")
    if weight is not None:
        w = profile.columns[weight]
        if w.kind not in ("numeric", "boolean"):
            raise DataError(f"weight_column_name {weight!r} has type {w.spark_type}; weights must be numeric.")
        if w.min is not None and w.min < 0:
            raise DataError(
                f"weight_column_name {weight!r} has negative values (min {w.min}); sample weights must be >= 0."
            )
        if w.n_infinite:
            raise DataError(f"weight_column_name {weight!r} has {w.n_infinite} infinite value(s); weights must be "
                            "finite.")
        if w.max is not None and w.max <= 0:
            raise DataError(f"weight_column_name {weight!r} is 0 in every row; at least some weights must be > 0.")
        if w.non_null < profile.n_rows:
            raise DataError(
                f"weight_column_name {weight!r} is missing in {profile.n_rows - w.non_null} rows; fill them (e.g. with 1.0)."
            )


def check_usable_features(plans) -> None:
    """At least one column must become a feature, or every model would be fit on nothing."""
    if plans and all(p.purpose == "drop" for p in plans):
        reasons = "; ".join(f"{p.name}: {p.reason}" for p in plans[:10])
        raise DataError(f"No column can be used as a feature ({reasons}). Add feature columns, or set "
                        "featurization='auto' so that text, categorical and datetime columns are encoded.")
    if not plans:
        raise DataError("training_data has no feature columns besides the label (and weight / cv split columns).")


def check_known_classes(df: "DataFrame | pd.DataFrame", label: str, classes, role: str) -> None:
    """validation_data / test_data may only hold classes the training data has (one small job, or pandas)."""
    from ..spark_utils import col

    known = set(classes)
    if isinstance(df, pd.DataFrame):
        found = [v.item() if hasattr(v, "item") else v for v in df[label].dropna().unique()[:MAX_CLASSES + 1]]
    else:
        found = [r[0] for r in df.where(col(label).isNotNull()).select(col(label)).distinct().limit(MAX_CLASSES + 1)
                 .collect()]
    unseen = sorted((v for v in found if v not in known and not (isinstance(v, float) and v != v)), key=str)
    if unseen:
        raise DataError(f"{role}'s label column {label!r} holds class(es) training_data does not have: {unseen[:5]}. "
                        f"Known classes: {sorted(known, key=str)[:20]}. Remove those rows from {role}.")
