"""AutoMLConfig: Azure ML AutoML (SDK v1) parameter names and defaults, validated once.

Defaults live only in the constructor signature; every constraint is declared in
PARAMETER_CONSTRAINTS and checked by one mechanism with one message shape.
"""

from __future__ import annotations

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
from .featurize.config import FeaturizationConfig
from .forecasting.settings import ForecastingParameters
from .metrics import default_primary_metric, primary_metric_names
from .models import REGISTRY

TASKS = ("classification", "regression", "forecasting")
BACKENDS = ("auto", "local", "pandas_udf", "spark_trials")
META_LEARNERS = (
    "LogisticRegression", "LogisticRegressionCV", "LightGBMClassifier",
    "ElasticNet", "ElasticNetCV", "LightGBMRegressor", "LinearRegression",
)
CLASSIFICATION_META_LEARNERS = ("LogisticRegression", "LogisticRegressionCV", "LightGBMClassifier")
DEFAULT_META_LEARNER = {"classification": "LogisticRegression", "regression": "ElasticNetCV",
                        "forecasting": "ElasticNetCV"}
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
    "primary_metric": [NONE, InstanceOf((str,), "a metric name (str)")],
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
    "model_input_example": [NONE, Options(INPUT_EXAMPLES)],
}


class AutoMLConfig:
    """Everything an experiment needs, with Azure's parameter names.

    Differences from Azure, on purpose: timeouts may be any positive number (no
    15-minute minimum), `seed` makes runs reproducible, `backend` picks how trials fan
    out over Spark ('auto' chooses local threads for small data and pandas-UDF tasks
    otherwise), and `max_rows_in_memory` bounds what the driver collects for search.
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
        model_input_example: str | None = "synthetic",
        forecasting_parameters: ForecastingParameters | None = None,
        **forecasting_settings: Any,
    ) -> None:
        values = dict(locals())
        values.pop("self")
        values.pop("forecasting_settings")
        validate_parameters("AutoMLConfig", values, PARAMETER_CONSTRAINTS)
        for name, value in values.items():
            setattr(self, name, list(value) if name in _LIST_PARAMS and value is not None else value)
        self.forecasting_parameters = self._forecasting(forecasting_parameters, forecasting_settings)
        self._check_combinations()

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
        return self.primary_metric or default_primary_metric(self.task)

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
        return self.ensemble_iterations or DEFAULT_ENSEMBLE_ITERATIONS

    @property
    def meta_learner(self) -> str:
        return self.stack_meta_learner_type or DEFAULT_META_LEARNER[self.task]

    def valid_models(self) -> list[str]:
        """Forecasting: the per-series statistical models plus every regression learner (global
        models over lag features)."""
        if self.task == "forecasting":
            return REGISTRY.names("forecasting") + REGISTRY.names("regression")
        return REGISTRY.names(self.task)

    def candidate_models(self) -> list[str]:
        """Models the search may use: allowed (or all) minus blocked."""
        names = self.allowed_models or self.valid_models()
        blocked = set(self.blocked_models or [])
        return [n for n in names if n not in blocked]

    def without_data(self) -> "AutoMLConfig":
        """A copy that keeps table names and paths but drops in-memory data: what a run record
        stores (small, and picklable without a SparkSession)."""
        import copy

        clone = copy.copy(self)
        for name in ("training_data", "validation_data", "test_data"):
            if not isinstance(getattr(clone, name), (str, type(None))):
                setattr(clone, name, None)
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
        valid_metrics = primary_metric_names(self.task)
        if self.primary_metric is not None and self.primary_metric not in valid_metrics:
            raise ConfigError(
                f"The 'primary_metric' parameter of {owner} must be one of {', '.join(valid_metrics)} "
                f"for task {self.task!r}. Got {self.primary_metric!r} instead."
            )
        if self.experiment_exit_score is not None and not math.isfinite(self.experiment_exit_score):
            raise ConfigError(f"The 'experiment_exit_score' parameter of {owner} must be finite.")
        valid_models = self.valid_models()
        for name in ("allowed_models", "blocked_models"):
            check_choices(owner, name, getattr(self, name) or [], valid_models)
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
