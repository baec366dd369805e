"""Databricks AutoML's shortcuts over the same core: classify(), regress(), forecast().

Databricks' parameter names (exclude_cols, exclude_frameworks, experiment_dir, time_col, split_col,
sample_weight_col, pos_label, imputers) and metric names (f1, roc_auc, r2, mae...) are taken; any
AutoMLConfig keyword may follow. Each returns Databricks' AutoMLSummary, which also exposes the
AutoMLRun (`summary.run`, and its attributes directly: `summary.leaderboard`, `summary.model`...).
"""

from __future__ import annotations

from typing import Any

from .config import AutoMLConfig
from .databricks import AutoMLSummary, databricks_settings, translate_metric
from .errors import ConfigError
from .experiment import Experiment

DEFAULT_TIMEOUT_MINUTES = 10
_UNSET: Any = object()  # tells "left at its default" from "given"

# Databricks' name -> the AutoMLConfig keyword it stands for (given both ways = an error)
_SAME_AS = {"timeout_minutes": "experiment_timeout_minutes", "max_trials": "iterations"}


def _run(task: str, dataset: Any, target_col: str, primary_metric: Any, timeout_minutes: Any, max_trials: Any,
         experiment_name: str | None, spark, tracking_uri: str | None, show_output: bool, databricks: dict[str, Any],
         config: dict[str, Any]) -> AutoMLSummary:
    given = {"timeout_minutes": timeout_minutes, "max_trials": max_trials}
    for mine, theirs in _SAME_AS.items():
        if given[mine] is not _UNSET and theirs in config:
            raise ConfigError(f"Give either {mine} or {theirs}, not both: they mean the same thing.")
    for reserved in ("task", "training_data", "label_column_name"):
        if reserved in config:
            raise ConfigError(f"{reserved} is set by {task_function(task)}(dataset, target_col); drop it.")
    settings, name = databricks_settings(task, dataset, spark, experiment_name=experiment_name,
                                         config=config, **databricks)
    timeout = config.pop("experiment_timeout_minutes", DEFAULT_TIMEOUT_MINUTES) \
        if timeout_minutes is _UNSET else timeout_minutes
    trials = config.pop("iterations", None) if max_trials is _UNSET else max_trials
    metric = translate_metric(task, None if primary_metric is _UNSET else primary_metric)
    merged = {"training_data": dataset, **config, **settings}
    automl_config = AutoMLConfig(task=task, label_column_name=target_col, primary_metric=metric,
                                 experiment_timeout_minutes=timeout, iterations=trials, **merged)
    experiment = Experiment(name or f"automl-{task}", spark=spark, tracking_uri=tracking_uri)
    return AutoMLSummary(experiment.submit(automl_config, show_output=show_output))


def task_function(task: str) -> str:
    return {"classification": "classify", "regression": "regress", "forecasting": "forecast"}[task]


def classify(dataset: Any, target_col: str, *, primary_metric: Any = _UNSET, timeout_minutes: Any = _UNSET,
             max_trials: Any = _UNSET, experiment_name: str | None = None, experiment_dir: str | None = None,
             exclude_cols: list[str] | None = None, exclude_frameworks: list[str] | None = None,
             time_col: str | None = None, split_col: str | None = None, sample_weight_col: str | None = None,
             pos_label: Any = None, imputers: dict | None = None, data_dir: str | None = None,
             feature_store_lookups: Any = None, spark=None, tracking_uri: str | None = None,
             show_output: bool = True, **config: Any) -> AutoMLSummary:
    """Train classifiers on `dataset` to predict `target_col` (Databricks' default metric: f1, here
    f1_score_weighted; roc_auc, precision, recall, accuracy, log_loss or any AutoML metric)."""
    return _run("classification", dataset, target_col, primary_metric, timeout_minutes, max_trials, experiment_name,
                spark, tracking_uri, show_output,
                dict(exclude_cols=exclude_cols, exclude_frameworks=exclude_frameworks, experiment_dir=experiment_dir,
                     time_col=time_col, split_col=split_col, sample_weight_col=sample_weight_col, pos_label=pos_label,
                     imputers=imputers, data_dir=data_dir, feature_store_lookups=feature_store_lookups), config)


def regress(dataset: Any, target_col: str, *, primary_metric: Any = _UNSET, timeout_minutes: Any = _UNSET,
            max_trials: Any = _UNSET, experiment_name: str | None = None, experiment_dir: str | None = None,
            exclude_cols: list[str] | None = None, exclude_frameworks: list[str] | None = None,
            time_col: str | None = None, split_col: str | None = None, sample_weight_col: str | None = None,
            imputers: dict | None = None, data_dir: str | None = None, feature_store_lookups: Any = None,
            spark=None, tracking_uri: str | None = None, show_output: bool = True, **config: Any) -> AutoMLSummary:
    """Train regressors on `dataset` to predict `target_col` (Databricks' default metric: r2; mae, rmse,
    mse or any AutoML metric)."""
    return _run("regression", dataset, target_col, primary_metric, timeout_minutes, max_trials, experiment_name,
                spark, tracking_uri, show_output,
                dict(exclude_cols=exclude_cols, exclude_frameworks=exclude_frameworks, experiment_dir=experiment_dir,
                     time_col=time_col, split_col=split_col, sample_weight_col=sample_weight_col, imputers=imputers,
                     data_dir=data_dir, feature_store_lookups=feature_store_lookups), config)


def forecast(dataset: Any, target_col: str, time_col: str, *, horizon: int = 1,
             identity_col: str | list[str] | None = None, frequency: str | int | None = None,
             primary_metric: Any = _UNSET, timeout_minutes: Any = _UNSET, max_trials: Any = _UNSET,
             experiment_name: str | None = None, experiment_dir: str | None = None,
             exclude_frameworks: list[str] | None = None, country_code: str | None = None,
             feature_store_lookups: Any = None, spark=None, tracking_uri: str | None = None,
             show_output: bool = True, **config: Any) -> AutoMLSummary:
    """Forecast `target_col` `horizon` steps ahead for every series in `identity_col` (Databricks'
    names; its metric names mae, rmse, mse, r2; frameworks prophet, arima, statsforecast, sklearn,
    lightgbm, xgboost, catboost); any AutoMLConfig or forecasting keyword may follow."""
    if country_code is not None:
        config.setdefault("country_or_region_for_holidays", country_code)
    return _run("forecasting", dataset, target_col, primary_metric, timeout_minutes, max_trials, experiment_name,
                spark, tracking_uri, show_output,
                dict(exclude_frameworks=exclude_frameworks, experiment_dir=experiment_dir,
                     feature_store_lookups=feature_store_lookups),
                {"time_column_name": time_col, "forecast_horizon": horizon,
                 "time_series_id_column_names": identity_col, "freq": frequency, **config})
