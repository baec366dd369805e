"""From the user's data to the arrays a trial needs: ingest -> profile -> checks ->
splits -> featurization plan -> one collect of the search set."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyspark.sql.functions as F
from pyspark.sql import DataFrame, SparkSession

from ..config import AutoMLConfig
from ..errors import DataError
from ..featurize.plan import FeaturizationPlan, build_plan
from ..featurize.transformer import CODE_SUFFIX, AutoFeaturizer
from ..spark_utils import FOLD, INTERNAL_COLUMNS, IS_TEST, ROW_ID, col
from . import guardrails as gr
from .ingest import to_spark, with_row_ids
from .profile import DataProfile, label_missing, label_missing_mask, profile, profile_frame
from .split import ValidationTechnique, assign_folds, assign_test, choose_technique, fold_ids, held_out_mask
from .validate import (check_cv_columns, check_known_classes, check_profile, check_same_columns, check_schema,
                       check_training_rows, check_usable_features)

log = logging.getLogger(__name__)


@dataclass
class SearchData:
    """Everything a trial reads; small enough to broadcast to Spark tasks."""

    task: str
    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray | None
    splits: list[tuple[np.ndarray, np.ndarray]]
    classes: list | None
    y_range: float | None
    positive_label: Any = None
    code_columns: tuple[int, ...] = ()  # X columns each learner target-encodes inside its own fit
    woe: bool = False  # binary labels: weight of evidence (log-odds) rather than the rate
    categorical_groups: tuple[tuple[int, ...], ...] = ()  # each one-hot block's X columns (CategoryCodes)

    def estimator_args(self) -> dict[str, Any]:
        """build_estimator's data-dependent arguments."""
        return {"code_columns": self.code_columns, "woe": self.woe, "categorical_groups": self.categorical_groups}

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    def scored_rows(self) -> np.ndarray:
        """Rows that receive a validation prediction (all rows under k-fold CV)."""
        return np.unique(np.concatenate([v for _, v in self.splits]))

    @property
    def target(self):
        """The validation rows as a ValidationTarget: what trials, ensembles and the generated code are
        scored on."""
        from ..metrics import ValidationTarget

        return ValidationTarget(self.task, self.y, self.weight, self.classes, self.positive_label, self.y_range,
                                self.scored_rows())


@dataclass
class PreparedData:
    search: SearchData
    featurizer: AutoFeaturizer
    plan: FeaturizationPlan
    profile: DataProfile
    technique: ValidationTechnique
    guardrails: list
    feature_columns: list[str]
    label: str
    weight_column: str | None
    input_example: pd.DataFrame
    test_frame: pd.DataFrame | None = None
    holdout_frame: pd.DataFrame | None = None  # raw validation rows (capped): ONNX checks, explanations
    example_logged: bool = True  # model_input_example is not None: the example goes with the model
    timings: dict[str, float] = field(default_factory=dict)
    # Large-data mode: the search set is a sample; these Spark frames hold ALL rows, never collected.
    sampled_rows: int | None = None
    full_train: DataFrame | None = None  # every training (and validation) row: the distributed refit reads it
    full_test: DataFrame | None = None  # the test rows: scored in Spark
    n_train_rows: int = 0
    final_learners: dict[int, str] = field(default_factory=dict)  # iteration -> what refit it, on which rows
    bagged: set[int] = field(default_factory=set)  # iterations whose final model is their fold models

    @property
    def large(self) -> bool:
        return self.sampled_rows is not None


def load_and_check(spark: SparkSession, config: AutoMLConfig) -> tuple[DataFrame, DataFrame | None, DataFrame | None]:
    """Schema-level checks only: cheap, and before anything is computed."""
    if config.training_data is None:
        raise DataError("AutoMLConfig has no training_data. Pass training_data=<DataFrame | table | path>.")
    train = to_spark(spark, config.training_data, "training_data")
    check_schema(train, config.label_column_name, config.weight_column_name, config.cv_split_column_names)
    valid = test = None
    if config.validation_data is not None:
        valid = to_spark(spark, config.validation_data, "validation_data")
        check_same_columns(train, valid, "validation_data")
    if config.test_data is not None:
        test = to_spark(spark, config.test_data, "test_data")
        check_same_columns(train.drop(*(config.cv_split_column_names or [])), test, "test_data")
    return train, valid, test


@dataclass
class _Staged:
    """What either side (Spark jobs, or pandas for rows the driver already holds) hands the shared
    tail: the profile, the labelled rows with FOLD and IS_TEST, collected, and the plan's parts."""

    prof: DataProfile
    technique: ValidationTechnique
    plan: FeaturizationPlan
    featurizer: AutoFeaturizer
    pdf: pd.DataFrame  # the wanted columns + FOLD + IS_TEST of every labelled (and validation) row
    test_frame: pd.DataFrame | None
    n_test: int
    sampled: int | None = None
    full_train: DataFrame | None = None
    full_test: DataFrame | None = None


def prepare(spark: SparkSession, config: AutoMLConfig, progress=None, loaded=None) -> PreparedData:
    """loaded: the (train, valid, test) triple from load_and_check, when the caller already has it.

    Input the driver already holds (pandas frames within the driver budget) is profiled, split and
    counted with pandas: no Spark job stands between submit() and the first trial. Anything else
    (tables, files, Spark frames, pandas past the budget) goes through Spark, which can sample it."""
    say = progress or (lambda msg: None)
    classification = config.task == "classification"
    label, weight = config.label_column_name, config.weight_column_name
    train, valid, test = loaded or load_and_check(spark, config)
    user_columns = list(train.columns)
    excluded = {label, weight, *(config.cv_split_column_names or [])}
    feature_columns = [c for c in user_columns if c not in excluded and c not in INTERNAL_COLUMNS]
    wanted = [c for c in [*feature_columns, label, weight, *(config.cv_split_column_names or [])] if c] + [FOLD, IS_TEST]
    limit = search_row_limit(config.max_rows_in_memory, len(wanted))
    if on_driver(config, limit):
        staged = _stage_on_driver(config, train.schema, feature_columns, wanted, say)
    else:
        staged = _stage_in_spark(config, train, valid, test, feature_columns, wanted, limit, say)
    pdf, prof, technique, featurizer, plan = staged.pdf, staged.prof, staged.technique, staged.featurizer, staged.plan
    sampled, test_frame = staged.sampled, staged.test_frame
    if config.test_size and not sampled and test_frame is None:  # (test_data, when given, is the test set)
        test_frame = pdf.loc[pdf[IS_TEST].astype(bool), user_columns].reset_index(drop=True)
    train_pdf = pdf.loc[~pdf[IS_TEST].astype(bool)].reset_index(drop=True)
    if train_pdf.empty:
        raise DataError("No training rows are left after removing missing labels and the test split.")

    encoding = target_encoding(config, prof, classification)
    X = featurizer.transform(train_pdf)
    y = train_pdf[label].to_numpy()
    w = train_pdf[weight].to_numpy(dtype=np.float64) if weight else None
    classes = sorted(prof.label_counts, key=_sort_key) if classification else None
    y_range = None if classification else float(np.nanmax(y) - np.nanmin(y)) or 1.0
    splits = _splits(train_pdf, technique, config.cv_split_column_names)
    code_columns = tuple(i for i, n in enumerate(featurizer.get_feature_names_out()) if n.endswith(CODE_SUFFIX))
    search = SearchData(config.task, X, y if classification else y.astype(np.float64), w, splits, classes, y_range,
                        config.positive_label, code_columns, bool(code_columns) and encoding == "woe",
                        featurizer.categorical_groups())
    holdout = _holdout_sample(train_pdf, splits, user_columns, config.seed)
    guards = gr.evaluate(prof, plan.columns, technique, classification, prof.n_label_missing, sampled)
    return PreparedData(
        search=search, featurizer=featurizer, plan=plan, profile=prof, technique=technique, guardrails=guards,
        feature_columns=feature_columns, label=label, weight_column=weight,
        input_example=input_example(train_pdf[feature_columns], config.model_input_example), test_frame=test_frame,
        holdout_frame=holdout, example_logged=config.model_input_example is not None,
        sampled_rows=sampled, full_train=staged.full_train, full_test=staged.full_test,
        n_train_rows=prof.n_labeled - staged.n_test if sampled else len(train_pdf),
    )


def on_driver(config: AutoMLConfig, limit: int) -> bool:
    """Every input is a pandas frame and the training rows fit the driver budget."""
    frames = (config.training_data, config.validation_data, config.test_data)
    if not all(f is None or isinstance(f, pd.DataFrame) for f in frames):
        return False
    return isinstance(config.training_data, pd.DataFrame) and len(config.training_data) <= limit


def _checked_profile(prof: DataProfile, config: AutoMLConfig, classification: bool, frames) -> None:
    """The profile's checks, then validation_data's and test_data's classes against training_data's."""
    check_profile(prof, classification, config.weight_column_name, config.exclude_nan_labels, config.positive_label)
    check_cv_columns(prof, config.cv_split_column_names)
    check_training_rows(prof, config.test_size,
                        config.n_cross_validations if isinstance(config.n_cross_validations, int) else None)
    if classification:
        for role, frame in frames.items():
            if frame is not None:
                check_known_classes(frame, config.label_column_name, list(prof.label_counts), role)


def _technique(config: AutoMLConfig, prof: DataProfile, n_test: int, has_validation: bool) -> ValidationTechnique:
    return choose_technique(prof.n_labeled - n_test, config.n_cross_validations, config.validation_size,
                            has_validation, config.cv_split_column_names)


def _plan(rows, prof: DataProfile, config: AutoMLConfig, feature_columns: list[str],
          classification: bool) -> FeaturizationPlan:
    encoding = target_encoding(config, prof, classification)
    plan = build_plan(rows, prof, feature_columns, config.featurization,
                      onnx_compatible=config.enable_onnx_compatible_models, target_encoding=encoding is not None)
    check_usable_features(plan.columns)
    return plan


def _stage_on_driver(config: AutoMLConfig, schema, feature_columns: list[str], wanted: list[str], say) -> _Staged:
    """pandas all the way: row ids are positions, folds follow the Spark rule bit for bit (split.py)."""
    classification = config.task == "classification"
    label = config.label_column_name
    train = config.training_data
    say("Profiling training data (pandas: the driver already holds it, no Spark job)")
    prof = profile_frame(train, schema, label, classification)
    _checked_profile(prof, config, classification,
                     {"validation_data": config.validation_data, "test_data": config.test_data})
    keep = ~label_missing_mask(train, label)
    columns = [c for c in wanted if c not in (FOLD, IS_TEST)]
    rows = train.loc[keep, columns].reset_index(drop=True)  # a new frame: the user's is never touched
    row_ids = np.flatnonzero(keep).astype(np.int64)
    strata = rows[label].to_numpy() if classification else None
    n_test = _expected_test_rows(prof, config.test_size)
    technique = _technique(config, prof, n_test, config.validation_data is not None)
    rows[IS_TEST] = held_out_mask(row_ids, config.test_size, config.seed, strata)
    rows[FOLD] = fold_ids(row_ids, technique, config.seed, strata)
    if config.validation_data is not None:
        valid = config.validation_data
        valid = valid.loc[~label_missing_mask(valid, label), columns].assign(**{IS_TEST: False, FOLD: 1})
        rows = pd.concat([rows, valid], ignore_index=True)
    plan = _plan(rows.loc[~rows[IS_TEST]], prof, config, feature_columns, classification)
    test_frame = None
    if config.test_data is not None:
        test = config.test_data
        test_frame = test.loc[~label_missing_mask(test, label)].reset_index(drop=True)
    return _Staged(prof, technique, plan, plan.featurizer(), rows, test_frame, n_test)


def _stage_in_spark(config: AutoMLConfig, train: DataFrame, valid: DataFrame | None, test: DataFrame | None,
                    feature_columns: list[str], wanted: list[str], limit: int, say) -> _Staged:
    """Spark jobs: one profile aggregation, fold assignment, one statistics job, one collect (or a
    seeded sample of it in large-data mode)."""
    classification = config.task == "classification"
    label = config.label_column_name
    user_columns = list(train.columns)
    df = with_row_ids(train).cache()
    say("Profiling training data (one Spark aggregation pass)")
    prof = profile(df, label, classification)
    _checked_profile(prof, config, classification, {"validation_data": valid, "test_data": test})
    labelled = df.where(~label_missing(df, label))

    stratify = label if classification else None
    labelled = assign_test(labelled, config.test_size, config.seed, stratify)
    n_test = _expected_test_rows(prof, config.test_size)
    technique = _technique(config, prof, n_test, valid is not None)
    labelled = assign_folds(labelled, technique, config.seed, stratify)
    if valid is not None:
        v = with_row_ids(valid.select(*user_columns))
        v = v.where(~label_missing(v, label)).withColumn(IS_TEST, F.lit(False)).withColumn(FOLD, F.lit(1))
        try:
            labelled = labelled.unionByName(v.select(*labelled.columns))
        except Exception as err:
            raise DataError(f"validation_data columns do not match training_data's types: {err}") from None

    say("Computing featurization statistics with Spark")
    plan = _plan(labelled.where(~F.col(IS_TEST)), prof, config, feature_columns, classification)
    featurizer = plan.featurizer()
    search_df, sampled = _bounded(labelled, prof.n_labeled, limit, config.seed,
                                  prof.label_counts if classification else None, label)
    if sampled:  # the final refit runs in Spark learners, which have no per-fit target encoder
        for p in plan.columns:
            p.codes = []
        featurizer = plan.featurizer()
        say(f"Large-data mode: {prof.n_labeled} rows x {len(wanted)} columns exceed the driver budget "
            f"({limit} rows); the search uses a seeded{' stratified' if classification else ''} sample, "
            "featurization and the final refit run in Spark on all rows")
    say("Collecting the search set to the driver (Arrow)")
    pdf = search_df.select(*[col(c) for c in wanted]).toPandas()
    df.unpersist()
    staged = _Staged(prof, technique, plan, featurizer, pdf, None, n_test, sampled)
    if sampled:  # test rows stay in Spark: run.test() scores them there
        staged.full_train = labelled.where(~F.col(IS_TEST))
        staged.full_test = labelled.where(F.col(IS_TEST)).select(*[col(c) for c in user_columns]) \
            if config.test_size else None
    if test is not None:
        labelled_test = test.where(~label_missing(test, label)).select(*[col(c) for c in test.columns])
        if sampled:
            staged.full_test = labelled_test
        else:
            staged.test_frame = labelled_test.toPandas()
    return staged


def target_encoding(config, prof, classification: bool) -> str | None:
    """Azure's CatTargetEncoder / WoETargetEncoder for high-cardinality categoricals: 'target' for
    regression, 'woe' (or 'target' with WoETargetEncoder blocked) for binary labels; None for
    multiclass labels (one encoding per class would change the feature count) or when blocked."""
    from ..featurize.config import FeaturizationConfig

    blocked = set(config.featurization.blocked_transformers) if isinstance(config.featurization,
                                                                           FeaturizationConfig) else set()
    if config.featurization == "off" or "CatTargetEncoder" in blocked:
        return None
    if not classification:
        return "target"
    if len(prof.label_counts) != 2:
        return None
    return "target" if "WoETargetEncoder" in blocked else "woe"


HOLDOUT_SAMPLE_ROWS = 2000
EXAMPLE_ROWS = 5
PLACEHOLDER = "example"  # a text column's synthetic value: its most frequent value may be one row's own text


def input_example(frame: pd.DataFrame, kind: str | None) -> pd.DataFrame:
    """The model's input example: the first rows ('rows'), or one synthetic row in the training dtypes
    ('synthetic', and for None, where it only types the signature): per-column medians for numbers,
    the most frequent value for categories, a placeholder for text-like columns."""
    if kind == "rows":
        return frame.head(EXAMPLE_ROWS).copy()
    row = {}
    for name, column in frame.items():
        values = column.dropna()
        if values.empty:
            row[name] = column.iloc[:1].tolist()[0] if len(column) else None
        elif pd.api.types.is_bool_dtype(column):
            row[name] = bool(values.mode().iloc[0])
        elif pd.api.types.is_numeric_dtype(column):
            median = values.median()
            row[name] = round(median) if pd.api.types.is_integer_dtype(column) else float(median)
        elif pd.api.types.is_datetime64_any_dtype(column):
            row[name] = values.min()
        else:
            counts = values.astype(str).value_counts()
            row[name] = counts.index[0] if counts.iloc[0] > 1 else PLACEHOLDER
    return pd.DataFrame([row], columns=list(frame.columns)).astype(frame.dtypes.to_dict(), errors="ignore")


def _holdout_sample(train_pdf: pd.DataFrame, splits, user_columns: list[str], seed: int) -> pd.DataFrame:
    """Raw rows of the (last) validation split, a seeded sample of at most HOLDOUT_SAMPLE_ROWS."""
    valid_idx = splits[-1][1]
    if len(valid_idx) > HOLDOUT_SAMPLE_ROWS:
        valid_idx = np.sort(np.random.default_rng(seed).choice(valid_idx, HOLDOUT_SAMPLE_ROWS, replace=False))
    return train_pdf.loc[valid_idx, user_columns].reset_index(drop=True)


def _expected_test_rows(prof: DataProfile, test_size: float | None) -> int:
    return int(round(prof.n_labeled * test_size)) if test_size else 0


SAMPLE_SEED_OFFSET = 17  # the sample's hash seed differs from the fold hash's, so the two are independent
# What the driver may hold for search, in cells (rows x collected columns): ~50M cells stays well
# inside a 2 GB Python driver as pandas + float32 features. max_rows_in_memory lowers it further.
DRIVER_SEARCH_CELLS = 50_000_000
MIN_ROWS_PER_CLASS = 500  # a stratified sample keeps up to this many rows of every class, however rare
HASH_BUCKETS = 1_000_000


def search_row_limit(max_rows_in_memory: int, n_columns: int) -> int:
    """Rows the driver collects for search: the user's max_rows_in_memory, lowered for wide data."""
    return max(1, min(int(max_rows_in_memory), DRIVER_SEARCH_CELLS // max(1, n_columns)))


def _bounded(df: DataFrame, n_rows: int, limit: int, seed: int, label_counts: dict | None = None,
             label: str | None = None) -> tuple[DataFrame, int | None]:
    """Large-data mode: a seeded sample for search when the table exceeds the driver budget.

    Classification samples each class at its own rate, so a rare class keeps up to
    MIN_ROWS_PER_CLASS rows instead of vanishing from the sample."""
    if n_rows <= limit:
        return df, None
    fraction = limit / n_rows
    bucket = F.abs(F.xxhash64(col(ROW_ID), F.lit(seed + SAMPLE_SEED_OFFSET))) % HASH_BUCKETS
    if not label_counts:
        return df.where(bucket < int(fraction * HASH_BUCKETS)), limit
    rates = {k: min(1.0, max(fraction, MIN_ROWS_PER_CLASS / max(1, n))) for k, n in label_counts.items()}
    threshold = None
    for value, rate in rates.items():
        cond = col(label) == F.lit(value)
        threshold = (F.when(cond, F.lit(int(rate * HASH_BUCKETS))) if threshold is None
                     else threshold.when(cond, F.lit(int(rate * HASH_BUCKETS))))
    sampled = int(sum(min(n, rate * n) for n, rate in zip(label_counts.values(), rates.values())))
    return df.where(bucket < threshold.otherwise(F.lit(int(fraction * HASH_BUCKETS)))), sampled


def _splits(pdf: pd.DataFrame, technique: ValidationTechnique, cv_columns) -> list[tuple[np.ndarray, np.ndarray]]:
    if technique.kind == "user_cv_columns":
        # Azure semantics: 1 = the row trains in this split, 0 = the row validates it.
        return [(np.flatnonzero(pdf[c].to_numpy() == 1), np.flatnonzero(pdf[c].to_numpy() == 0)) for c in cv_columns]
    fold = pdf[FOLD].to_numpy()
    if technique.kind == "cv":
        return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(technique.n_folds)]
    train_idx, valid_idx = np.flatnonzero(fold == 0), np.flatnonzero(fold == 1)
    if len(valid_idx) == 0 or len(train_idx) == 0:
        raise DataError("The validation split is empty; give more rows or a larger validation_size.")
    return [(train_idx, valid_idx)]


def _sort_key(value: Any) -> tuple:
    return (str(type(value).__name__), value)
