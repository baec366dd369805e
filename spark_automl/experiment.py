"""Experiment: an MLflow experiment by name; submit(config) runs AutoML and returns AutoMLRun."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from pyspark.sql import SparkSession

from .config import AutoMLConfig
from .data.prepare import load_and_check, prepare
from .engine import best_result, guardrail_records, refit, run_search
from .errors import ConfigError
from .progress import Progress
from .run import AutoMLRun
from .search.stopping import Stopper
from .spark_utils import local_session
from .tracking import Tracker, configure

log = logging.getLogger(__name__)
FINAL_RESERVE_FRACTION = 0.1  # of the budget kept for refit + model logging
FINAL_RESERVE_MAX_SECONDS = 20.0
REFIT_SAFETY = 1.3  # refit on all rows vs one fold's training part
MODEL_LOGGING_SECONDS = 5.0  # mlflow.sklearn.log_model with signature + input example (STACK.md: ~4.5 s)


def model_signature(model, example: pd.DataFrame):
    return infer_signature(example, model.predict(example))


def signature_example(example: pd.DataFrame) -> pd.DataFrame:
    """The training dtypes as they are: MLflow will not convert int64 input to a double schema."""
    return example.copy()


class Experiment:
    """Azure's Experiment(workspace, name) without the workspace: name <-> MLflow experiment.

    spark: the session to use (defaults to the active one, else an embedded local[*]).
    tracking_uri: any MLflow tracking URI (defaults to MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).
    """

    def __init__(self, name: str, spark: SparkSession | None = None, tracking_uri: str | None = None):
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"The 'name' parameter of Experiment must be a non-empty str. Got {name!r} instead.")
        self.name = name
        self.spark = spark
        self.tracking_uri = tracking_uri

    def _session(self) -> SparkSession:
        return self.spark or SparkSession.getActiveSession() or local_session()

    def submit(self, config: AutoMLConfig, show_output: bool = False, run_name: str | None = None,
               tags: dict[str, str] | None = None) -> AutoMLRun:
        if not isinstance(config, AutoMLConfig):
            raise ConfigError(f"Experiment.submit expects an AutoMLConfig; got {type(config).__name__}.")
        started = time.time()
        progress = Progress(config.metric, enabled=show_output)
        spark = self._session()
        loaded = load_and_check(spark, config)  # schema errors before any MLflow or Spark work
        configure(self.tracking_uri)
        tracker = Tracker(self.name, self.tracking_uri)
        timeout = config.timeout_seconds
        reserve = 0.0 if timeout is None else min(FINAL_RESERVE_FRACTION * timeout, FINAL_RESERVE_MAX_SECONDS)
        stopper = Stopper(config.metric, config.max_iterations, timeout, config.experiment_exit_score,
                          config.enable_early_stopping, start=started, reserve=reserve)
        progress.stage(f"Experiment {self.name!r}: task={config.task}, primary_metric={config.metric}")
        prepared = prepare(spark, config, progress.stage, loaded)
        n_splits = len(prepared.search.splits)
        # The winner is refit on all rows and logged inside the budget: keep time for it.
        stopper.reserve_for = lambda best: REFIT_SAFETY * best.fit_seconds / n_splits + MODEL_LOGGING_SECONDS
        _show_guardrails(progress, prepared)
        tracker.start_parent(run_name or f"automl_{time.strftime('%Y%m%d_%H%M%S')}",
                             params={k: v for k, v in config.to_dict().items() if v is not None},
                             tags={"task": config.task, "primary_metric": config.metric, "automl": "spark-automl",
                                   **(tags or {})})
        status = "FAILED"
        try:
            tracker.log_dict(guardrail_records(prepared.guardrails), "guardrails.json")
            tracker.log_dict([p.describe() for p in prepared.plan.columns], "featurization.json")

            def on_results(batch):
                tracker.log_trials(batch)
                progress.trials(batch)

            outcome = run_search(spark, prepared, config, on_results, stopper, progress)
            progress.stage(f"Search stopped: {outcome.stop_reason}; {len(outcome.results)} trials")
            best = best_result(outcome.results)
            progress.stage(f"Refitting the best pipeline ({best.model}, {config.metric}={best.score:.5f}) on all training rows")
            model = refit(prepared, best, config.seed, config.cores_per_trial)
            example = signature_example(prepared.input_example)
            best_run_id = tracker.child_run_ids.get(best.iteration) or tracker.parent_run_id
            model_uri = tracker.log_model(model, best_run_id, example, model_signature(model, example))
            run = AutoMLRun(config, prepared, outcome, tracker, model, best, model_uri, time.time() - started)
            tracker.log_text(run.leaderboard.drop(columns=["params"]).to_csv(index=False), "leaderboard.csv")
            status = "FINISHED"
            progress.stage(f"Best: iteration {best.iteration} {best.model} {config.metric}={best.score:.5f}; "
                           f"model at {model_uri}; {time.time() - started:.1f}s in all")
            return run
        finally:
            summary = {}
            if status == "FINISHED":
                summary = {f"best_{k}": v for k, v in best.metrics.items()}
                summary["trials"] = len(outcome.results)
            tracker.finish_parent(summary, {"stop_reason": stopper.reason or ""}, status=status)


def _show_guardrails(progress: Progress, prepared) -> None:
    progress.stage(f"Data: {prepared.profile.n_rows} rows, {len(prepared.feature_columns)} feature columns -> "
                   f"{prepared.search.X.shape[1]} features; validation: {prepared.technique.describe()}")
    for g in prepared.guardrails:
        progress.stage(f"Guardrail {g.name}: {g.status.upper()} - {g.description}")
