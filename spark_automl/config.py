"""AutoMLConfig: Azure ML AutoML (SDK v1) parameter names and defaults, validated once.

Defaults live only in the constructor signature; every constraint is declared in
PARAMETER_CONSTRAINTS and checked by one mechanism with one message shape.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any, Mapping, Sequence

from ._validation import (
    BOOL,
    DICT,
    NONE,
    STR_LIST,
    InstanceOf,
    Interval,
    Options,
    Predicate,
    check_choices,
    validate_parameters,
)
from .errors import ConfigError
from .extras import require_extra
from .featurize.config import FeaturizationConfig
from .forecasting.settings import ForecastingParameters
from .metrics import CustomMetric, default_primary_metric, metric_names, primary_metric_names, register_metric
from .models import REGISTRY

_log = logging.getLogger(__name__)

TASKS = ("classification", "regression", "forecasting")
BACKENDS = ("auto", "local", "pandas_udf", "spark_trials")
META_LEARNERS = (
    "LogisticRegression", "LogisticRegressionCV", "LightGBMClassifier",
    "ElasticNet", "ElasticNetCV", "LightGBMRegressor", "LinearRegression",
)
CLASSIFICATION_META_LEARNERS = ("LogisticRegression", "LogisticRegressionCV", "LightGBMClassifier")
DEFAULT_META_LEARNER = {"classification": "LogisticRegression", "regression": "ElasticNet",
                        "forecasting": "ElasticNetCV"}  # + "CV" under cross-validation: meta_learner_for()
DEFAULT_ENSEMBLE_ITERATIONS = 15


def _is_data(value: Any) -> bool:
    """Spark DataFrame, pandas DataFrame, a table name or a file path."""
    import pandas as pd

    return isinstance(value, (str, pd.DataFrame)) or hasattr(value, "schema") and hasattr(value, "select")


DATA = Predicate(_is_data, "a Spark DataFrame, a pandas DataFrame, a table name or a file path")
POSITIVE = Interval(float, 0, None, closed="neither")
POSITIVE_INT = Interval(int, 1, None)

INPUT_EXAMPLES = ("synthetic", "rows")  # model_input_example (None: no example)

PARAMETER_CONSTRAINTS: dict[str, list] = {
    "task": [Options(TASKS)],
    "primary_metric": [NONE, InstanceOf((str, CustomMetric), "a metric name (str) or a CustomMetric")],
    "experiment_timeout_minutes": [NONE, POSITIVE],
    "experiment_timeout_hours": [NONE, POSITIVE],
    "iterations": [NONE, Interval(int, 1, 1000)],
    "iteration_timeout_minutes": [NONE, POSITIVE],
    "max_concurrent_iterations": [POSITIVE_INT],
    "max_cores_per_iteration": [Options((-1,)), POSITIVE_INT],
    "mem_in_mb": [NONE, POSITIVE_INT],
    "experiment_exit_score": [NONE, Interval(float, None, None)],
    "enable_early_stopping": [BOOL],
    "allowed_models": [NONE, STR_LIST],
    "blocked_models": [NONE, STR_LIST],
    "training_data": [NONE, DATA],
    "label_column_name": [NONE, InstanceOf((str,), "a column name (str)")],
    "weight_column_name": [NONE, InstanceOf((str,), "a column name (str)")],
    "positive_label": [NONE, InstanceOf((str, int, float, bool), "a label value")],
    "validation_data": [NONE, DATA],
    "validation_size": [NONE, Interval(float, 0, 1, closed="neither")],
    "n_cross_validations": [NONE, Options(("auto",)), Interval(int, 2, 100)],
    "cv_split_column_names": [NONE, STR_LIST],
    "test_data": [NONE, DATA],
    "test_size": [NONE, Interval(float, 0, 1, closed="neither")],
    "exclude_nan_labels": [BOOL],
    "featurization": [Options(("auto", "off")), InstanceOf((FeaturizationConfig,), "a FeaturizationConfig")],
    "enable_voting_ensemble": [BOOL],
    "enable_stack_ensemble": [NONE, BOOL],
    "ensemble_iterations": [NONE, POSITIVE_INT],
    "stack_meta_learner_type": [NONE, Options(META_LEARNERS)],
    "stack_meta_learner_train_percentage": [Interval(float, 0, 1, closed="neither")],
    "stack_meta_learner_kwargs": [NONE, DICT],
    "model_explainability": [BOOL],
    "enable_onnx_compatible_models": [BOOL],
    "enable_code_generation": [BOOL],
    "verbosity": [Interval(int, 0, 50)],
    "seed": [Interval(int, 0, 2**31 - 1)],
    "backend": [Options(BACKENDS)],
    "trials_per_task": [NONE, POSITIVE_INT],
    "max_rows_in_memory": [POSITIVE_INT],
    "bag_fold_models": [BOOL],
    "model_input_example": [NONE, Options(INPUT_EXAMPLES)],
    "path": [NONE, InstanceOf((str,), "a folder path (str)")],
    "debug_log": [NONE, InstanceOf((str,), "a file name (str)")],
    "cv_splits_indices": [NONE, Predicate(lambda v: isinstance(v, (list, tuple)) and len(v) >= 1,
                                          "a list of [train_indices, validation_indices] pairs")],
    "enable_dnn": [BOOL],
    "ensemble_download_models_timeout_sec": [NONE, POSITIVE],
    "compute_target": [],  # any value: noted, see NOTED_PARAMETERS
    "spark_context": [],
}

# Azure parameters that have no effect here: accepted, and a one-line note says why when one is set.
NOTED_PARAMETERS: dict[str, tuple[Any, str]] = {
    "compute_target": (None, "trials run on the Spark session's cluster; its master decides where"),
    "spark_context": (None, "the Experiment's SparkSession is used (Experiment(ws, name, spark=...) picks another)"),
    "ensemble_download_models_timeout_sec": (300, "ensemble members are refit in this process; no model is "
                                                  "downloaded"),
}


class AutoMLConfig:
    """Everything an experiment needs, with Azure's parameter names.

    Differences from Azure, on purpose: timeouts may be any positive number (no
    15-minute minimum), `seed` makes runs reproducible, `backend` picks how trials fan
    out over Spark ('auto' chooses local threads for small data and pandas-UDF tasks
    otherwise), and `max_rows_in_memory` bounds what the driver collects for search.
    `bag_fold_models` (classification/regression under k-fold CV): a member's final model is its
    k fold models averaged, the models its validation score came from (AutoGluon's bagging), while
    they stay small (budget.BAG_MAX_MB / BAG_MAX_OBJECTS); False refits every member once on all rows.
    `model_input_example` is what the logged model shows as its input example: 'synthetic'
    (one row of per-column medians and most frequent values, no training row), 'rows' (the
    first five training rows) or None (no example, and no training row in any artifact).
    """

    def __init__(
        self,
        task: str,
        primary_metric: str | None = None,
        experiment_timeout_minutes: float | None = None,
        experiment_timeout_hours: float | None = None,
        iterations: int | None = None,
        iteration_timeout_minutes: float | None = None,
        max_concurrent_iterations: int = 1,
        max_cores_per_iteration: int = 1,
        mem_in_mb: int | None = None,
        experiment_exit_score: float | None = None,
        enable_early_stopping: bool = True,
        allowed_models: Sequence[str] | None = None,
        blocked_models: Sequence[str] | None = None,
        training_data: Any = None,
        label_column_name: str | None = None,
        weight_column_name: str | None = None,
        positive_label: Any = None,
        validation_data: Any = None,
        validation_size: float | None = None,
        n_cross_validations: int | str | None = None,
        cv_split_column_names: Sequence[str] | None = None,
        test_data: Any = None,
        test_size: float | None = None,
        exclude_nan_labels: bool = True,
        featurization: str | FeaturizationConfig = "auto",
        enable_voting_ensemble: bool = True,
        enable_stack_ensemble: bool | None = None,
        ensemble_iterations: int | None = None,
        stack_meta_learner_type: str | None = None,
        stack_meta_learner_train_percentage: float = 0.2,
        stack_meta_learner_kwargs: Mapping[str, Any] | None = None,
        model_explainability: bool = True,
        enable_onnx_compatible_models: bool = False,
        enable_code_generation: bool = True,
        verbosity: int = logging.INFO,
        seed: int = 0,
        backend: str = "auto",
        trials_per_task: int | None = None,
        max_rows_in_memory: int = 2_000_000,
        bag_fold_models: bool = True,
        model_input_example: str | None = "synthetic",
        path: str | None = None,
        debug_log: str | None = None,
        cv_splits_indices: Sequence[Sequence[Sequence[int]]] | None = None,
        enable_dnn: bool = False,
        ensemble_download_models_timeout_sec: float | None = 300,
        compute_target: Any = None,
        spark_context: Any = None,
        forecasting_parameters: ForecastingParameters | None = None,
        **forecasting_settings: Any,
    ) -> None:
        values = dict(locals())
        values.pop("self")
        values.pop("forecasting_settings")
        from .dataset import TabularDataset

        for name in ("training_data", "validation_data", "test_data"):  # Azure's Dataset: read by its path
            if isinstance(values[name], TabularDataset):
                values[name] = values[name].path
        validate_parameters("AutoMLConfig", values, PARAMETER_CONSTRAINTS)
        for name, value in values.items():
            setattr(self, name, list(value) if name in _LIST_PARAMS and value is not None else value)
        self.forecasting_parameters = self._forecasting(forecasting_parameters, forecasting_settings)
        self._check_combinations()
        self._check_azure_only()
        self._check_extras()
        if cv_splits_indices is not None:
            self.training_data, self.cv_split_column_names = split_columns_from_indices(
                cv_splits_indices, training_data, label_column_name)
        if self.stack_meta_learner_kwargs:
            check_meta_learner_kwargs(self)

    def _check_azure_only(self) -> None:
        """Azure parameters that mean nothing here are noted in one line; enable_dnn=True is refused."""
        if self.enable_dnn:
            raise ConfigError("The 'enable_dnn' parameter of AutoMLConfig cannot be True here: spark-automl has no "
                              "deep-learning models (ForecastTCN, BERT featurization). Set enable_dnn=False.")
        for name, (default, why) in NOTED_PARAMETERS.items():
            if getattr(self, name) != default:
                _log.info("AutoMLConfig: %s has no effect here: %s.", name, why)
        exclusive = ("n_cross_validations", "validation_data", "validation_size", "cv_split_column_names")
        given = [n for n in exclusive if getattr(self, n) is not None]
        if self.cv_splits_indices is not None and given:
            raise ConfigError(f"Give either 'cv_splits_indices' or {given[0]!r} to AutoMLConfig, not both: they "
                              "choose the same thing (how the model is validated).")

    def _check_extras(self) -> None:
        """Features whose libraries are an install extra: refused here, before any data is read."""
        from .extras import require_extra

        if self.task == "forecasting":
            require_extra("forecast", "task='forecasting'")
        if self.enable_onnx_compatible_models:
            require_extra("onnx", "enable_onnx_compatible_models=True")

    @property
    def debug_log_path(self) -> str | None:
        """Where the run's log goes: debug_log, inside `path` when that is given and debug_log is relative."""
        import os

        if self.debug_log is None:
            return None
        return self.debug_log if os.path.isabs(self.debug_log) or not self.path else os.path.join(self.path,
                                                                                                  self.debug_log)

    def _forecasting(self, given: ForecastingParameters | None, settings: dict[str, Any]) -> ForecastingParameters | None:
        """Azure takes forecasting settings as an object or as plain keywords; one of them, and only
        for task='forecasting'."""
        unknown = sorted(set(settings) - set(ForecastingParameters.names()))
        if unknown:
            raise ConfigError(f"AutoMLConfig got unexpected parameter(s) {unknown}. Forecasting settings are "
                              f"{', '.join(ForecastingParameters.names())}; other valid parameters are "
                              f"{', '.join(PARAMETER_CONSTRAINTS)}.")
        if given is not None and settings:
            raise ConfigError("Give forecasting settings either as forecasting_parameters=ForecastingParameters(...) "
                              f"or as keywords ({', '.join(sorted(settings))}), not both.")
        if given is not None and not isinstance(given, ForecastingParameters):
            raise ConfigError("The 'forecasting_parameters' parameter of AutoMLConfig must be a ForecastingParameters. "
                              f"Got {type(given).__name__} instead.")
        params = given if given is not None else (ForecastingParameters(**settings) if settings else None)
        if self.task != "forecasting":
            if params is not None:
                raise ConfigError(f"Forecasting settings were given for task={self.task!r}; "
                                  "use task='forecasting' or drop them.")
            return None
        params = params or ForecastingParameters()
        if params.time_column_name is None:
            raise ConfigError("task='forecasting' needs time_column_name: the column that holds each row's time "
                              "(pass time_column_name='date' or forecasting_parameters=ForecastingParameters(...)).")
        return params

    # ---- derived settings (one place for each default rule) -------------------------
    @property
    def metric(self) -> str:
        if isinstance(self.primary_metric, CustomMetric):
            return self.primary_metric.name
        return self.primary_metric or default_primary_metric(self.task)

    @property
    def custom_metrics(self) -> tuple[CustomMetric, ...]:
        return (self.primary_metric,) if isinstance(self.primary_metric, CustomMetric) else ()

    @property
    def timeout_seconds(self) -> float | None:
        if self.experiment_timeout_minutes is not None:
            return self.experiment_timeout_minutes * 60.0
        if self.experiment_timeout_hours is not None:
            return self.experiment_timeout_hours * 3600.0
        return None

    @property
    def max_iterations(self) -> int:
        return self.iterations if self.iterations is not None else 1000

    @property
    def trial_timeout_seconds(self) -> float | None:
        return None if self.iteration_timeout_minutes is None else self.iteration_timeout_minutes * 60.0

    @property
    def cores_per_trial(self) -> int:
        """n_jobs for each estimator: Azure's max_cores_per_iteration (-1 = all cores) as is."""
        return self.max_cores_per_iteration

    @property
    def stack_enabled(self) -> bool:
        """Azure: stacking is on by default and always off in ONNX mode (a meta-learner over
        member outputs has no ONNX export here)."""
        if self.task == "forecasting":  # Azure: off by default for time series
            return bool(self.enable_stack_ensemble) and not self.enable_onnx_compatible_models
        return bool(self.enable_stack_ensemble in (None, True)) and not self.enable_onnx_compatible_models

    @property
    def ensemble_steps(self) -> int:
        """Azure: ensemble_iterations defaults to min(15, iterations) and never exceeds iterations."""
        steps = self.ensemble_iterations or DEFAULT_ENSEMBLE_ITERATIONS
        return min(steps, self.iterations) if self.iterations is not None else steps

    def meta_learner_for(self, cross_validated: bool) -> str:
        """Azure: LogisticRegression / ElasticNet on a holdout split, their CV forms under cross-validation."""
        if self.stack_meta_learner_type:
            return self.stack_meta_learner_type
        return DEFAULT_META_LEARNER[self.task] + ("CV" if cross_validated and self.task != "forecasting" else "")

    def valid_models(self) -> list[str]:
        """Forecasting: the per-series statistical models plus every regression learner (global
        models over lag features)."""
        if self.task == "forecasting":
            return REGISTRY.names("forecasting") + REGISTRY.names("regression")
        return REGISTRY.names(self.task)

    def candidate_models(self) -> list[str]:
        """Models the search may use: allowed (or all but the opt-in models of an extra) minus blocked."""
        names = self.allowed_models or [n for n in self.valid_models() if self._spec(n).extra is None]
        blocked = set(self.blocked_models or [])
        return [n for n in names if n not in blocked]

    def _spec(self, name: str):
        """A valid model name's registry spec (forecasting: a per-series model or a global learner)."""
        if self.task != "forecasting":
            return REGISTRY.get(name, self.task)
        return REGISTRY.get(name, "forecasting" if name in REGISTRY.names("forecasting") else "regression")

    def without_data(self) -> "AutoMLConfig":
        """A copy that keeps table names and paths but drops in-memory data: what a run record
        stores (small, and picklable without a SparkSession)."""
        import copy

        import pickle

        clone = copy.copy(self)
        for name in ("training_data", "validation_data", "test_data"):
            if not isinstance(getattr(clone, name), (str, type(None))):
                setattr(clone, name, None)
        clone.spark_context = clone.compute_target = None
        if clone.custom_metrics:
            try:  # a lambda does not pickle: the record then keeps the metric's name and direction only
                pickle.dumps(clone.primary_metric)
            except Exception:  # noqa: BLE001
                clone.primary_metric = dataclasses.replace(clone.primary_metric, function=None)
        return clone

    def to_dict(self) -> dict[str, Any]:
        """Loggable settings (data arguments reduced to a short description)."""
        out = {}
        for name in PARAMETER_CONSTRAINTS:
            value = getattr(self, name)
            if name.endswith("_data") and value is not None:
                value = value if isinstance(value, str) else type(value).__name__
            elif isinstance(value, FeaturizationConfig):
                value = "FeaturizationConfig"
            elif isinstance(value, CustomMetric):
                value = value.name
            elif name == "cv_splits_indices" and value is not None:
                value = f"{len(value)} splits"
            elif value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
                value = type(value).__name__
            out[name] = value
        if self.forecasting_parameters is not None:
            out.update(self.forecasting_parameters.to_dict())
        return out

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.to_dict().items() if v is not None}
        return "AutoMLConfig(" + ", ".join(f"{k}={v!r}" for k, v in changed.items()) + ")"

    # ---- cross-parameter rules ------------------------------------------------------
    def _check_combinations(self) -> None:
        owner = "AutoMLConfig"
        if self.experiment_timeout_minutes is not None and self.experiment_timeout_hours is not None:
            raise ConfigError(
                "Give only one of 'experiment_timeout_minutes' and 'experiment_timeout_hours' to AutoMLConfig; "
                f"got {self.experiment_timeout_minutes} minutes and {self.experiment_timeout_hours} hours."
            )
        if isinstance(self.primary_metric, CustomMetric):
            family = "classification" if self.task == "classification" else "regression"
            self.primary_metric = dataclasses.replace(self.primary_metric, task=family)
            register_metric(self.primary_metric)
        elif self.primary_metric is not None and self.primary_metric not in metric_names(self.task):
            raise ConfigError(
                f"The 'primary_metric' parameter of {owner} must be one of {', '.join(primary_metric_names(self.task))} "
                f"for task {self.task!r} (Azure's list), another scalar metric of the task "
                f"({', '.join(metric_names(self.task))}) or a CustomMetric. Got {self.primary_metric!r} instead."
            )
        if self.experiment_exit_score is not None and not math.isfinite(self.experiment_exit_score):
            raise ConfigError(f"The 'experiment_exit_score' parameter of {owner} must be finite.")
        valid_models = self.valid_models()
        for name in ("allowed_models", "blocked_models"):
            check_choices(owner, name, getattr(self, name) or [], valid_models)
        for spec in map(self._spec, self.allowed_models or []):
            if not spec.installed:
                require_extra(spec.extra, f"allowed_models={list(self.allowed_models)!r} ({spec.name})")
        if not self.candidate_models():
            raise ConfigError(
                f"allowed_models={self.allowed_models} and blocked_models={self.blocked_models} leave no model "
                f"to train for task {self.task!r}. Allow at least one of: {', '.join(valid_models)}."
            )
        exclusive = [
            ("validation_data", "n_cross_validations"),
            ("validation_data", "validation_size"),
            ("n_cross_validations", "validation_size"),
            ("cv_split_column_names", "n_cross_validations"),
            ("cv_split_column_names", "validation_data"),
            ("test_data", "test_size"),
        ]
        for first, second in exclusive:
            if getattr(self, first) is not None and getattr(self, second) is not None:
                raise ConfigError(
                    f"Give either '{first}' or '{second}' to {owner}, not both: they choose the same thing "
                    "(how the model is validated/tested)."
                )
        if self.training_data is not None and self.label_column_name is None:
            raise ConfigError(f"The 'label_column_name' parameter of {owner} is required when training_data is given.")
        if self.weight_column_name is not None and self.weight_column_name == self.label_column_name:
            raise ConfigError(
                f"The 'weight_column_name' parameter of {owner} names the label column "
                f"{self.label_column_name!r}; choose a separate column of non-negative weights."
            )
        if self.stack_meta_learner_type is not None:
            fits = (self.stack_meta_learner_type in CLASSIFICATION_META_LEARNERS) == (self.task == "classification")
            if not fits:
                valid = [m for m in META_LEARNERS
                         if (m in CLASSIFICATION_META_LEARNERS) == (self.task == "classification")]
                raise ConfigError(
                    f"The 'stack_meta_learner_type' parameter of {owner} must be one of {', '.join(valid)} "
                    f"for task {self.task!r}. Got {self.stack_meta_learner_type!r} instead."
                )
        if self.positive_label is not None and self.task != "classification":
            raise ConfigError(f"The 'positive_label' parameter of {owner} only applies to task='classification'.")


_LIST_PARAMS = {"allowed_models", "blocked_models", "cv_split_column_names"}


def split_columns_from_indices(indices: Sequence, training_data: Any, label: str | None) -> tuple[Any, list[str]]:
    """Azure's cv_splits_indices as cv_split_column_names over a copy of the pandas training data
    (row positions mean nothing in a Spark DataFrame, whose order is not defined)."""
    import numpy as np
    import pandas as pd

    if not isinstance(training_data, pd.DataFrame):
        raise ConfigError("The 'cv_splits_indices' parameter of AutoMLConfig needs training_data as a pandas DataFrame "
                          "(row positions). For a Spark DataFrame or a table, add one 0/1 column per split (1 = the "
                          "row trains, 0 = it validates) and pass cv_split_column_names instead.")
    n = len(training_data)
    frame = training_data.copy()
    names = []
    for k, pair in enumerate(indices):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ConfigError(f"cv_splits_indices[{k}] must be a pair [train_indices, validation_indices]; "
                              f"got {type(pair).__name__}.")
        train, valid = (np.asarray(p, dtype=np.int64).ravel() for p in pair)
        if len(train) == 0 or len(valid) == 0:
            raise ConfigError(f"cv_splits_indices[{k}] has an empty train or validation part; each needs rows.")
        if min(train.min(), valid.min()) < 0 or max(train.max(), valid.max()) >= n:
            raise ConfigError(f"cv_splits_indices[{k}] holds a row position outside 0..{n - 1} (training_data has "
                              f"{n} rows).")
        flag = np.full(n, -1, dtype=np.int64)
        flag[train], flag[valid] = 1, 0
        if np.intersect1d(train, valid).size or (flag < 0).any():
            raise ConfigError(f"cv_splits_indices[{k}] must put every row of training_data in exactly one of its "
                              f"train and validation parts ({int((flag < 0).sum())} rows in neither).")
        name = f"__cv_split_{k}"
        while name in frame.columns or name == label:
            name = "_" + name
        frame[name] = flag
        names.append(name)
    return frame, names


def check_meta_learner_kwargs(config: "AutoMLConfig") -> None:
    """Meta-learner arguments are checked before any training: an unknown or removed one is a ConfigError
    naming it; Azure's multi_class='auto' (scikit-learn's only behaviour now) is dropped with a note."""
    import inspect

    from .ensemble.stacking import META_LEARNERS

    kwargs = dict(config.stack_meta_learner_kwargs)
    names = {config.meta_learner_for(False), config.meta_learner_for(True)}
    for removed, (same, why) in REMOVED_META_KWARGS.items():
        if removed in kwargs and kwargs[removed] == same:
            _log.info("AutoMLConfig: stack_meta_learner_kwargs %s=%r is dropped: %s.", removed, same, why)
            kwargs.pop(removed)
    for name in sorted(names):
        estimator = META_LEARNERS[name].factory({}, config.seed)
        valid = set(inspect.signature(type(estimator)).parameters)
        unknown = sorted(set(kwargs) - valid)
        if unknown:
            hint = "; ".join(f"{u}: {REMOVED_META_KWARGS[u][1]}" for u in unknown if u in REMOVED_META_KWARGS)
            raise ConfigError(f"The 'stack_meta_learner_kwargs' parameter of AutoMLConfig holds {unknown}, which "
                              f"{type(estimator).__name__} ({name}) does not take"
                              + (f" ({hint})" if hint else "") + f". Valid: {', '.join(sorted(valid))}.")
        try:
            configured = META_LEARNERS[name].factory(kwargs, config.seed)
            if hasattr(configured, "_validate_params"):  # scikit-learn's own value checks, before any fit
                configured._validate_params()
        except Exception as err:  # noqa: BLE001 - the estimator's own message names the bad value
            raise ConfigError(f"The 'stack_meta_learner_kwargs' parameter of AutoMLConfig is refused by "
                              f"{name}: {err}") from None
    config.stack_meta_learner_kwargs = kwargs


# Meta-learner arguments scikit-learn removed: (the value that is now the only behaviour, why)
REMOVED_META_KWARGS: dict[str, tuple[Any, str]] = {
    "multi_class": ("auto", "scikit-learn 1.8 removed it; multinomial ('auto') is now always used"),
}
