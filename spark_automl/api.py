"""Databricks-style shortcuts over the same core: classify(), regress(), forecast()."""

from __future__ import annotations

from typing import Any

from .config import AutoMLConfig
from .experiment import Experiment
from .run import AutoMLRun


def _run(task: str, dataset: Any, target_col: str, primary_metric: str | None, timeout_minutes: float | None,
         max_trials: int | None, experiment_name: str | None, spark, tracking_uri: str | None,
         show_output: bool, **config: Any) -> AutoMLRun:
    automl_config = AutoMLConfig(
        task=task, training_data=dataset, label_column_name=target_col, primary_metric=primary_metric,
        experiment_timeout_minutes=timeout_minutes, iterations=max_trials, **config,
    )
    experiment = Experiment(experiment_name or f"automl-{task}", spark=spark, tracking_uri=tracking_uri)
    return experiment.submit(automl_config, show_output=show_output)


def classify(dataset: Any, target_col: str, *, primary_metric: str | None = None, timeout_minutes: float | None = 10,
             max_trials: int | None = None, experiment_name: str | None = None, spark=None,
             tracking_uri: str | None = None, show_output: bool = True, **config: Any) -> AutoMLRun:
    """Train classifiers on `dataset` to predict `target_col`; any AutoMLConfig keyword may follow."""
    return _run("classification", dataset, target_col, primary_metric, timeout_minutes, max_trials,
                experiment_name, spark, tracking_uri, show_output, **config)


def regress(dataset: Any, target_col: str, *, primary_metric: str | None = None, timeout_minutes: float | None = 10,
            max_trials: int | None = None, experiment_name: str | None = None, spark=None,
            tracking_uri: str | None = None, show_output: bool = True, **config: Any) -> AutoMLRun:
    """Train regressors on `dataset` to predict `target_col`; any AutoMLConfig keyword may follow."""
    return _run("regression", dataset, target_col, primary_metric, timeout_minutes, max_trials,
                experiment_name, spark, tracking_uri, show_output, **config)


def forecast(dataset: Any, target_col: str, time_col: str, *, horizon: int = 1,
             identity_col: str | list[str] | None = None, frequency: str | int | None = None,
             primary_metric: str | None = None, timeout_minutes: float | None = 10, max_trials: int | None = None,
             experiment_name: str | None = None, spark=None, tracking_uri: str | None = None,
             show_output: bool = True, **config: Any) -> AutoMLRun:
    """Forecast `target_col` `horizon` steps ahead for every series in `identity_col` (Databricks'
    names); any AutoMLConfig or forecasting keyword may follow."""
    return _run("forecasting", dataset, target_col, primary_metric, timeout_minutes, max_trials, experiment_name,
                spark, tracking_uri, show_output, time_column_name=time_col, forecast_horizon=horizon,
                time_series_id_column_names=identity_col, freq=frequency, **config)
