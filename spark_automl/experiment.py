"""Experiment: an MLflow experiment by name; submit(config) runs AutoML and returns AutoMLRun."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Any

import pandas as pd
from mlflow.models import infer_signature
from pyspark.sql import SparkSession

from .config import AutoMLConfig
from .data.prepare import load_and_check, prepare
from .engine import best_result, guardrail_records, refit, run_search
from .ensemble.build import build_ensembles, parallel_seconds, refit_seconds
from .errors import ConfigError
from .progress import Progress
from .run import AutoMLRun
from .search.stopping import Stopper
from .spark_utils import local_session
from .tracking import Tracker, configure

log = logging.getLogger(__name__)
FINAL_RESERVE_FRACTION = 0.1  # of the budget kept for refit + model logging
FINAL_RESERVE_MAX_SECONDS = 20.0
MODEL_LOGGING_SECONDS = 5.0  # mlflow.sklearn.log_model with signature + input example (STACK.md: ~4.5 s)
ENSEMBLE_SIZE_ESTIMATE = 5  # members a voting ensemble usually ends with
ENSEMBLE_SECONDS = 3.0  # Caruana selection + stack meta-learner + logging the ensemble child runs
EXPLAIN_SECONDS = 3.0  # SHAP / permutation importance on <= 1000 rows, plus charts
ONNX_SECONDS = 3.0  # conversion + onnxruntime check
OVERRUN_LIMIT = 1.05  # optional artifacts stop once the run is 5% over its budget
EXPLAIN_MIN_SECONDS = 2.0


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
        if config.task == "forecasting":
            from .forecasting.experiment import submit_forecasting

            return submit_forecasting(self, config, show_output, run_name, tags)
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
        # Ensembles, the refit of their members and the artifacts run inside the budget: keep time for them.
        stopper.reserve_for = FinishReserve(config, len(prepared.search.splits))
        _show_guardrails(progress, prepared)
        tracker.start_parent(run_name or f"automl_{time.strftime('%Y%m%d_%H%M%S')}",
                             params={k: v for k, v in config.to_dict().items() if v is not None},
                             tags={"task": config.task, "primary_metric": config.metric, "automl": "spark-automl",
                                   **(tags or {})})
        status, timings = "FAILED", {}
        try:
            tracker.log_dict(guardrail_records(prepared.guardrails), "guardrails.json")
            tracker.log_dict([p.describe() for p in prepared.plan.columns], "featurization.json")

            def on_results(batch):
                tracker.log_trials(batch)
                progress.trials(batch)

            outcome = run_search(spark, prepared, config, on_results, stopper, progress)
            progress.stage(f"Search stopped: {outcome.stop_reason}; {len(outcome.results)} trials")
            with _timed(timings, "ensembling"):
                time_left = None if timeout is None else started + timeout - time.time() - MODEL_LOGGING_SECONDS
                ensembles = build_ensembles(outcome.results, prepared.search, config, config.max_concurrent_iterations,
                                            progress.stage, time_left)
                if ensembles:
                    outcome.results.extend(ensembles)
                    on_results(ensembles)
            best = best_result(outcome.results)
            progress.stage(f"Refitting the best pipeline ({best.model}, {config.metric}={best.score:.5f}) on all "
                           "training rows" + (" (ensemble members in parallel)" if best.ensemble else ""))
            fitted: dict[int, Any] = {}
            with _timed(timings, "refit"):
                model = refit(prepared, best, outcome.results, config.seed, config.cores_per_trial,
                              config.max_concurrent_iterations, fitted)
            with _timed(timings, "model_logging"):
                example = signature_example(prepared.input_example)
                best_run_id = tracker.child_run_ids.get(best.iteration) or tracker.parent_run_id
                model_uri = tracker.log_model(model, best_run_id, example, model_signature(model, example))
            run = AutoMLRun(config, prepared, outcome, tracker, model, best, model_uri, time.time() - started,
                            fitted=fitted)
            tracker.log_text(run.leaderboard.drop(columns=["params"]).to_csv(index=False), "leaderboard.csv")
            _finish(run, config, progress, started, timings)
            status = "FINISHED"
            run.wall_seconds = time.time() - started
            run.timings = dict(timings)
            progress.stage(f"Best: iteration {best.iteration} {best.model} {config.metric}={best.score:.5f}; "
                           f"model at {model_uri}; {run.wall_seconds:.1f}s in all")
            return run
        finally:
            done = status == "FINISHED"
            tracker.close_parent(status, timings, best if done else None, len(outcome.results) if done else 0,
                                 stopper.reason or "", time.time() - started)


class FinishReserve:
    """Seconds kept at the end of the budget for everything after the search.

    Called with each successful trial; tracks the best few (the likely ensemble members),
    since their refit on all rows, run `max_concurrent_iterations` at a time, is the bulk
    of the cost. The fixed part covers model logging and the artifacts.
    """

    def __init__(self, config: AutoMLConfig, n_splits: int):
        self.config, self.n_splits = config, max(n_splits, 1)
        self.ensembles = config.enable_voting_ensemble or config.stack_enabled
        self.top: list = []

    def __call__(self, result) -> float:
        self.top = sorted([*self.top, result], key=lambda r: (r.loss, r.iteration))[:ENSEMBLE_SIZE_ESTIMATE]
        members = self.top if self.ensembles else self.top[:1]
        refit_cost = parallel_seconds([refit_seconds(r, self.n_splits) for r in members],
                                      self.config.max_concurrent_iterations)
        # (a holdout stack fits its members once more; build_ensembles skips it when that does not fit)
        extras = MODEL_LOGGING_SECONDS + (ENSEMBLE_SECONDS if self.ensembles else 0.0)
        extras += EXPLAIN_SECONDS if self.config.model_explainability else 0.0
        extras += ONNX_SECONDS if self.config.enable_onnx_compatible_models else 0.0
        return refit_cost + extras


def _finish(run: AutoMLRun, config: AutoMLConfig, progress: Progress, started: float, timings: dict) -> None:
    """The artifacts after the model is logged. Each is optional: once the budget (plus the 10%
    grace Azure users expect at most) is spent, the rest are skipped with a note, and can be made
    later with the run's methods."""
    limit = None if config.timeout_seconds is None else started + OVERRUN_LIMIT * config.timeout_seconds

    def explain():
        # permutation importance scales with columns x rows: bound it by what is left of the grace
        left = None if limit is None else max(EXPLAIN_MIN_SECONDS, limit - time.time())
        run.explain(max_seconds=left)

    steps = [("charts", True, "run.log_charts()", run.log_charts),
             ("test", run.prepared.test_frame is not None, "run.test()", run.test),
             ("explanations", config.model_explainability, "run.explain()", explain),
             ("onnx", config.enable_onnx_compatible_models, "run.export_onnx()", run.export_onnx),
             ("generated_code", True, "run.generate_code()", run.generate_code)]
    for name, wanted, method, step in steps:
        if not wanted:
            continue
        if limit is not None and time.time() > limit:
            progress.stage(f"Skipping {name}: the experiment budget is spent; call {method} to make it")
            continue
        progress.stage(f"Logging {name.replace('_', ' ')}")
        with _timed(timings, name):
            try:
                step()
            except Exception as err:  # noqa: BLE001 - an artifact must not lose a finished experiment
                log.warning("%s failed: %s", name, err)
                progress.stage(f"{name} failed: {type(err).__name__}: {err}")


@contextmanager
def _timed(timings: dict, name: str):
    t0 = time.time()
    try:
        yield
    finally:
        timings[name] = time.time() - t0


def _show_guardrails(progress: Progress, prepared) -> None:
    progress.stage(f"Data: {prepared.profile.n_rows} rows, {len(prepared.feature_columns)} feature columns -> "
                   f"{prepared.search.X.shape[1]} features; validation: {prepared.technique.describe()}")
    for g in prepared.guardrails:
        progress.stage(f"Guardrail {g.name}: {g.status.upper()} - {g.description}")
