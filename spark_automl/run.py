"""AutoMLRun: a handle over one experiment's parent run in MLflow.

A run returned by submit() and one re-attached later by id (`AutoMLRun(experiment, run_id)`,
`Experiment.get_run(run_id)`), in a new process, behave alike: everything they need (the
trials, the settings, what tests and explanations read) is the run record logged at submit
time, and the model is the logged one. The handle computes on demand and logs through the
experiment's Tracker; it holds no training matrix unless it was submitted in this process.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pandas as pd

from .errors import ConfigError, DataError
from .extras import require_extra
from .metrics import CUSTOM_METRICS, METRICS, metric_spec
from .run_view import AZURE_STATUS, CHILD, MODEL_TEST, RunView
from .search.trial import CANCELED, OK, TrialResult
from .tasks import RunRecord, Task, task_for
from .tracking import Tracker

_log = logging.getLogger(__name__)


@dataclass
class ChildRun(RunView):
    """One trial as the user sees it (Azure's child Run): id, metrics, parameters, properties."""

    run_id: str | None
    iteration: int
    model_name: str
    status: str
    metrics: dict[str, float]
    params: dict[str, Any]
    duration: float
    error: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    _parent: Any = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str | None:
        return self.run_id

    @property
    def type(self) -> str:
        return CHILD

    def _view_tracker(self):
        return self._parent.tracker

    def get_metrics(self) -> dict[str, float]:
        return dict(self.metrics)

    def get_status(self) -> str:
        return "Completed" if self.status == OK else ("Canceled" if self.status == CANCELED else "Failed")

    def get_details(self) -> dict[str, Any]:
        details = {"runId": self.run_id, "iteration": self.iteration, "model_name": self.model_name,
                   "status": self.get_status(), "params": self.params, "error": self.error,
                   "properties": dict(self.properties)}
        if self.run_id is not None and self._parent is not None:
            details.update({k: v for k, v in super().get_details().items() if k not in details})
        return details

    def get_children(self, type: str | None = None, tags: dict | None = None,
                     properties: dict | None = None) -> Iterator["ModelTestRun"]:
        """This child's model-test runs (Azure: type='automl.model_test'), newest first."""
        if type not in (None, MODEL_TEST) or self._parent is None:
            return iter(())
        return iter([t for t in self._parent._test_runs(self.iteration)
                     if _matches(t.tags, tags) and _matches(t.properties, properties)])

    @classmethod
    def from_result(cls, r: TrialResult, run_id: str | None, parent=None, properties=None) -> "ChildRun":
        props = {"worker": r.worker} if r.worker else {}
        props.update(properties or {})
        return cls(run_id, r.iteration, r.model, r.status, dict(r.metrics), dict(r.params), r.duration, r.error,
                   props, parent)


class ModelTestRun(RunView):
    """A model test (run.test(), or test_data/test_size at the end of a run): metrics and predictions."""

    type = MODEL_TEST

    def __init__(self, parent, mlflow_run):
        self._parent, self._run = parent, mlflow_run
        self.run_id = mlflow_run.info.run_id
        self.iteration = int(mlflow_run.data.tags.get("iteration", -1))
        self.properties = {"iteration": self.iteration, "tested_run_id": parent.tracker.child_run_ids.get(
            self.iteration)}

    @property
    def id(self) -> str:
        return self.run_id

    def _view_tracker(self):
        return self._parent.tracker

    def get_metrics(self) -> dict[str, float]:
        return dict(self._mlflow_run().data.metrics)

    def _output_datasets(self) -> list[dict[str, Any]]:
        """Azure names the predictions as a dataset; here they are the run's predictions/predictions.csv."""
        root = self._mlflow_run().info.artifact_uri.rstrip("/")
        return [{"identifier": {"savedId": f"{root}/{PREDICTIONS_FILE}"}, "name": "predictions"}]

    def __repr__(self) -> str:
        return f"ModelTestRun(id={self.run_id!r}, iteration={self.iteration})"


def _matches(have: dict, wanted: dict | None) -> bool:
    """Azure's tags=/properties= filters: every wanted key present, with the wanted value unless it is None
    (a list of names only asks for the keys)."""
    if not wanted:
        return True
    if isinstance(wanted, (list, tuple, set)):
        wanted = {k: None for k in wanted}
    return all(k in have and (v is None or str(have[k]) == str(v)) for k, v in wanted.items())


PREDICTIONS_FILE = "predictions/predictions.csv"  # Azure's path of a model test's predictions


PREDICTIONS_CSV_MAX_ROWS = 200_000  # a test set's predictions.csv artifact keeps at most this many rows


class AutoMLRun(RunView):
    """Parent run of an experiment: leaderboard, children, best model, tests, explanations,
    exports and registration. `AutoMLRun(experiment, run_id)` re-attaches to a finished run.

    A run submitted with wait=False is a handle over a background thread until it ends: `id`,
    `status`, `cancel()` and `wait_for_completion()` answer at once; anything else waits for the end."""

    def __init__(self, experiment, run_id: str):
        from .tracking import TrackingError, is_dead

        tracker = Tracker(experiment.name, experiment.tracking_uri, experiment.registry_uri)
        tracker.find_experiment()
        try:
            record, mlflow_run = tracker.load_record(run_id)
        except TrackingError:  # no record: a run whose driver died (or was killed) mid-search
            record, mlflow_run = _record_from_checkpoint(tracker, run_id)
        self._init(experiment, tracker, record, task_for(record.task))
        self._status = "DEAD" if is_dead(mlflow_run) else mlflow_run.info.status

    @classmethod
    def _pending(cls, experiment, control) -> "AutoMLRun":
        """The handle submit(wait=False) returns: filled in from the finished run when it ends."""
        run = cls.__new__(cls)
        run.experiment, run._control, run._adopt_lock = experiment, control, threading.Lock()
        return run

    def __getattr__(self, name: str):
        """Pending handle: any state of the finished run waits for it (see _pending)."""
        control = self.__dict__.get("_control")
        if name.startswith("__") or control is None or "record" in self.__dict__:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        self.wait_for_completion()
        return getattr(self, name)

    @classmethod
    def _attached(cls, experiment, tracker: Tracker, record: RunRecord, task: Task, model=None, problem=None,
                  cache: dict | None = None) -> "AutoMLRun":
        """The handle submit() returns: the fitted model and the prepared problem in memory."""
        run = cls.__new__(cls)
        run._init(experiment, tracker, record, task)
        run._models[record.best_iteration] = model
        run._problem, run._fitted = problem, cache if cache is not None else {}
        return run

    def _init(self, experiment, tracker: Tracker, record: RunRecord, task: Task) -> None:
        from .metrics import register_metric

        for metric in record.config.custom_metrics:  # a re-attached run ranks and prints by it too
            register_metric(metric)
        self.experiment, self.tracker, self.record, self.task = experiment, tracker, record, task
        self._models: dict[int, Any] = {}
        self._problem = None  # the prepared data, only in the process that submitted the run
        self._fitted: dict[int, Any] = {}  # ensemble members refit on all rows, by iteration
        self._lock = threading.Lock()
        self._status = "FINISHED"
        self._control = self.__dict__.get("_control")
        self.registered_model = None
        self.test_run_id: str | None = None

    # ---- identity -----------------------------------------------------------------
    @property
    def id(self) -> str | None:
        if "record" not in self.__dict__ and self._control is not None:
            self._control.started.wait()
            if not self._control.done.is_set():
                return self._control.parent_run_id
            self.wait_for_completion(raise_on_error=False)
            if "record" not in self.__dict__:
                return self._control.parent_run_id
        return self.tracker.parent_run_id

    @property
    def status(self) -> str:
        """Azure's status: NotStarted, Running, Completed, Failed, Canceled, or NotResponding (a re-attached
        run still RUNNING in MLflow whose driver stopped its heartbeat: continue_experiment() resumes it)."""
        if "record" not in self.__dict__ and self._control is not None:
            if not self._control.done.is_set():
                return "Running" if self._control.started.is_set() else "NotStarted"
            self.wait_for_completion(raise_on_error=False)
        return AZURE_STATUS.get(self._status, self._status)

    def get_status(self) -> str:
        return self.status

    def _view_tracker(self):
        return self.tracker

    @property
    def properties(self) -> dict[str, Any]:
        """Azure's parent-run properties: the best child's algorithm, score and model name, the metric..."""
        props = {"primary_metric": self.config.metric, "task": self.config.task, "num_iterations":
                 len(self.results), "stop_reason": self.stop_reason, "backend": self.backend}
        if self.record.best_iteration is not None:
            best = self.get_best_child()
            props.update({k: best.properties[k] for k in ("model_name", "run_algorithm", "score", "iteration")},
                         best_child_run_id=best.run_id)
        return props

    # ---- running in the background: wait, cancel ------------------------------------
    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        """Block until a run submitted with wait=False ends; its details. raise_on_error: re-raise the
        run's error (a canceled run with no model is no error: its status says Canceled)."""
        from .errors import CanceledError

        control = self.__dict__.get("_control")
        if control is not None and "record" not in self.__dict__:
            control.done.wait()
            with self._adopt_lock:
                if control.result is not None and "record" not in self.__dict__:
                    self._adopt(control.result)
            if control.error is not None:
                self._status = "KILLED" if isinstance(control.error, (CanceledError, KeyboardInterrupt)) else "FAILED"
                if raise_on_error and not isinstance(control.error, CanceledError):
                    raise control.error
                return {"runId": control.parent_run_id, "status": AZURE_STATUS[self._status],
                        "error": f"{type(control.error).__name__}: {control.error}"}
        return self.get_details() if self.id is not None else {"runId": None, "status": self.status}

    def continue_experiment(self, training_data: Any = None, validation_data: Any = None,
                            experiment_timeout_minutes: float | None = None, experiment_timeout_hours: float | None = None,
                            iterations: int | None = None, experiment_exit_score: float | None = None,
                            show_output: bool = False, **_azure_only: Any) -> "AutoMLRun":
        """Go on with this run's search (Azure's continue_experiment): the finished trials are kept and not
        run again, the search continues from their results, and the ensembles are rebuilt over old and new.
        Works for a finished run and for one whose driver died (re-attach it by id first). iterations: how
        many more trials. training_data: needed again when the run was given in-memory data."""
        import copy

        from ._validation import validate_parameters
        from .config import PARAMETER_CONSTRAINTS
        from .orchestrator import Resume, run_experiment

        if self._control is not None and not self._control.done.is_set():
            raise ConfigError("This run is still running: wait_for_completion() or cancel() it first.")
        given = {"experiment_timeout_minutes": experiment_timeout_minutes, "iterations": iterations,
                 "experiment_timeout_hours": experiment_timeout_hours, "experiment_exit_score": experiment_exit_score}
        validate_parameters("continue_experiment", given, {k: PARAMETER_CONSTRAINTS[k] for k in given})
        config = copy.copy(self.record.config)
        config.training_data = training_data if training_data is not None else config.training_data
        config.validation_data = validation_data if validation_data is not None else config.validation_data
        if config.training_data is None:
            raise ConfigError("continue_experiment needs training_data: this run was given in-memory data, which "
                              "is not stored with it. Pass the same data again: "
                              "run.continue_experiment(training_data=df, ...).")
        if experiment_timeout_minutes is not None or experiment_timeout_hours is not None:
            config.experiment_timeout_minutes, config.experiment_timeout_hours = (experiment_timeout_minutes,
                                                                                  experiment_timeout_hours)
        config.iterations = iterations if iterations is not None else config.iterations
        config.experiment_exit_score = (experiment_exit_score if experiment_exit_score is not None
                                        else config.experiment_exit_score)
        _, checkpointed = self.tracker.load_checkpoint(self.id)
        done = checkpointed or self.results  # the record's, for a run from before checkpoints
        resume = Resume(self.id, [r for r in done if r.origin != "ensemble"],
                        next_iteration=1 + max((r.iteration for r in [*done, *self.results]), default=-1))
        self._adopt(run_experiment(self.experiment, config, show_output, resume=resume))
        return self

    def _adopt(self, finished: "AutoMLRun") -> None:
        """This handle becomes the finished run (a background submit, a continued experiment)."""
        self.__dict__.update({k: v for k, v in finished.__dict__.items() if k != "_control"})

    def cancel_iteration(self, iteration: int) -> None:
        """Stop one child (Azure's cancel_iteration) of a run submitted with wait=False: the search stops
        waiting for it and records it as canceled (not used for the model or the ensembles); the others go
        on. A trial on a driver thread finishes in the background; one inside a Spark batch is discarded
        when its batch returns. An iteration not yet started is canceled before it runs."""
        control = self.__dict__.get("_control")
        if control is None or control.done.is_set():
            raise ConfigError("cancel_iteration() needs a running run: submit(config, wait=False).")
        if not isinstance(iteration, int) or isinstance(iteration, bool) or iteration < 0:
            raise ConfigError(f"cancel_iteration expects an iteration number (int >= 0); got {iteration!r}.")
        control.cancel_iteration(iteration)

    def cancel(self) -> None:
        """Stop the search (from any thread): no new trial starts, running Spark trials are cancelled,
        finished trials are kept, and the best model so far is refit, logged and returned; the parent
        run ends KILLED (status 'Canceled'). A finished run is left as it is.

        On a handle re-attached to a running run (Experiment.get_run, any process) this asks its driver
        through the tracking store: a tag on the parent run that the driver looks for every few seconds
        (SPARK_AUTOML_CANCEL_POLL_SECONDS, default 5); it returns at once."""
        control = self.__dict__.get("_control")
        if control is not None:
            if not control.done.is_set():
                control.cancel()
            return
        if self._status == "RUNNING":  # alive elsewhere (a run whose driver died is 'DEAD': nobody to ask)
            self.tracker.request_cancel(self.id)

    @property
    def config(self):
        return self.record.config

    @property
    def primary_metric(self) -> str:
        return self.config.metric

    @property
    def results(self) -> list[TrialResult]:
        return self.record.results

    @property
    def best(self) -> TrialResult:
        if self.record.best_iteration is None:
            from .orchestrator import best_result

            best_result(self.results)  # raises NoTrialSucceededError with the trials' first errors
        return self._by_iteration()[self.record.best_iteration]

    @property
    def model_uri(self) -> str | None:
        return self.record.model_uri

    @property
    def info(self) -> dict[str, Any]:
        """The task's facts about the data (label, classes, feature columns, series...)."""
        return self.record.info

    @property
    def wall_seconds(self) -> float:
        return self.record.wall_seconds

    @property
    def timings(self) -> dict[str, float]:
        return self.record.timings

    @property
    def expected_timings(self) -> dict[str, float]:
        """What the budget priced for the refit and the model logging (compare with `timings`)."""
        return dict(getattr(self.record, "expected_timings", None) or {})

    @property
    def first_trial_seconds(self) -> float | None:
        """Seconds from submit() to the first successful trial: how soon the budget reached the search."""
        return getattr(self.record, "first_trial_seconds", None)

    @property
    def backend(self) -> str:
        return self.record.backend

    @property
    def stop_reason(self) -> str:
        return self.record.stop_reason

    # ---- results ------------------------------------------------------------------
    @property
    def leaderboard(self) -> pd.DataFrame:
        """Every trial, best first (ties broken by iteration, so the order is deterministic)."""
        metric = self.config.metric
        prefix = self.task.pipeline_prefix
        rows = [{
            "iteration": r.iteration, "pipeline": r.model if r.ensemble else f"{prefix.strip()}{', ' if prefix else ''}{r.model}",
            "model": r.model, "status": r.status, metric: r.score, "duration_s": round(r.duration, 3),
            "origin": r.origin, "run_id": self.tracker.child_run_ids.get(r.iteration), "params": r.params,
        } for r in self.results]
        frame = pd.DataFrame(rows)
        if frame.empty:
            return frame
        ok = frame["status"] == "ok"
        frame["_loss"] = [r.loss if r.status == "ok" else float("inf") for r in self.results]
        frame = frame.sort_values(["_loss", "iteration"], kind="mergesort").drop(columns="_loss")
        frame.attrs["ok_trials"] = int(ok.sum())
        frame = frame.reset_index(drop=True)
        made_by = self.info.get("final_learners") or {}
        if made_by:  # which learner refit the logged model(s), on which rows
            frame["final_fit"] = [made_by.get(i, "") for i in frame["iteration"]]
        by_iteration = self._by_iteration()
        for name in self.task.leaderboard_metrics:
            frame[name] = [by_iteration[i].metrics.get(name, np.nan) for i in frame["iteration"]]
        return frame

    def get_children(self, type: str | None = None, tags: dict | None = None,
                     properties: dict | None = None) -> Iterator[ChildRun]:
        """Azure's generator of child runs, by iteration; type='automl.model_test' gives the model tests.
        tags / properties: keep the children that have them (a dict of values, or a list of names)."""
        if type == MODEL_TEST:
            yield from (t for t in self._test_runs(None) if _matches(t.tags, tags)
                        and _matches(t.properties, properties))
            return
        if type not in (None, CHILD):
            return
        for r in sorted(self.results, key=lambda r: r.iteration):
            child = self._child(r)
            if _matches(child.properties, properties) and (not tags or (child.run_id and _matches(child.tags, tags))):
                yield child

    def _test_runs(self, iteration: int | None) -> list[ModelTestRun]:
        if self.id is None:
            return []
        query = f"tags.`mlflow.parentRunId` = '{self.id}' and tags.run_type = 'model_test'"
        if iteration is not None:
            query += f" and tags.iteration = '{iteration}'"
        found = self.tracker.client.search_runs([self.tracker.experiment_id], query,
                                                order_by=["attributes.start_time DESC"])
        return [ModelTestRun(self, r) for r in found]

    def get_best_child(self, metric: str | None = None) -> ChildRun:
        r = self._result(None, metric)
        return self._child(r)

    def get_metrics(self) -> dict[int, dict[str, float]]:
        """Metrics of every child run, keyed by iteration (Azure returns them per child)."""
        return {r.iteration: dict(r.metrics) for r in self.results}

    def get_guardrails(self) -> pd.DataFrame:
        return pd.DataFrame([{"guardrail": g["name"], "status": g["status"], "description": g["description"]}
                             for g in self.record.guardrails], columns=["guardrail", "status", "description"])

    def get_output(self, iteration: int | None = None, metric: str | None = None, return_onnx_model: bool = False):
        """(best or chosen ChildRun, fitted model): the logged model when there is one; another
        child's model is refit on demand in the process that submitted the run. return_onnx_model:
        the model as ONNX instead (checked against the Python model, see export_onnx)."""
        result = self._result(iteration, metric)
        if return_onnx_model:
            return self._child(result), self.export_onnx(result.iteration)[0]
        return self._child(result), self._model(result)

    @property
    def model(self):
        """The best model (a scikit-learn Pipeline, or a ForecastingModel)."""
        return self._model(self.best)

    def summary(self) -> pd.DataFrame:
        board = self.leaderboard
        greater = metric_spec(self.config.metric).greater_is_better
        return board.groupby("model").agg(trials=("iteration", "count"),
                                          best=(self.config.metric, "max" if greater else "min")).reset_index()

    def per_series_metrics(self, iteration: int | None = None) -> pd.DataFrame:
        """Forecasting: MASE, sMAPE and MAPE of every series for one child (the best by default)."""
        from .forecasting.trial import PER_SERIES

        self._require("forecast", "per_series_metrics")
        return self._result(iteration, None).details[PER_SERIES].reset_index()

    def series_models(self, iteration: int | None = None) -> pd.DataFrame:
        """Forecasting: which model forecasts each series, and why (the searched model, or the fallback
        for a series too short for the search)."""
        from .forecasting.fallback import series_table

        self._require("forecast", "series_models")
        from .forecasting.selection import ASSIGNMENT

        info = self.info
        fallback = info.get("fallback") or {}
        result = self._result(iteration, None)
        names = {r.iteration: r.model for r in self.results}
        per_series = {uid: names.get(i, str(i)) for uid, i in (result.details.get(ASSIGNMENT) or {}).items()}
        return series_table(info.get("searched_series", []), result.model, fallback.get("lengths", {}),
                            fallback.get("choice"), fallback.get("min_length", 0), per_series)

    def forecast(self, X_future: pd.DataFrame | None = None, y_pred: Any = None, iteration: int | None = None,
                 forecast_destination: Any = None) -> pd.DataFrame:
        """Forecasting: the model's forecast for X_future (default: every series, the whole horizon, or up to
        forecast_destination). y_pred: actuals known after the training data (NaN where a forecast is
        wanted); each series is then forecast from its last actual."""
        self._require("forecast", "forecast")
        return self._model(self._result(iteration, None)).forecast(X_future, y_pred,
                                                                   forecast_destination=forecast_destination)

    def rolling_forecast(self, X_pred: pd.DataFrame, y_pred: Any, step: int = 1,
                         iteration: int | None = None) -> pd.DataFrame:
        """Forecasting: a rolling-origin evaluation over a test set that follows the training data (Azure's
        rolling_forecast); one row per origin and forecast time, with the actual beside the forecast."""
        self._require("forecast", "rolling_forecast")
        return self._model(self._result(iteration, None)).rolling_forecast(X_pred, y_pred, step=step)

    def forecast_quantiles(self, X_future: pd.DataFrame | None = None, quantiles: Any = None,
                           iteration: int | None = None) -> pd.DataFrame:
        """Forecasting: the forecast's quantiles (default 0.025, 0.1, 0.5, 0.9, 0.975), one column each."""
        from .forecasting.model import DEFAULT_QUANTILES

        self._require("forecast", "forecast_quantiles")
        return self._model(self._result(iteration, None)).forecast_quantiles(
            X_future, DEFAULT_QUANTILES if quantiles is None else quantiles)

    def print_model(self, iteration: "int | ChildRun | None" = None) -> str:
        """The featurization steps, the estimator and its hyperparameters; ensemble members with weights."""
        result = self._result(_iteration_of(iteration), None)
        info = self.info
        lines = [f"Model (iteration {result.iteration}, {self.config.metric}={result.score:.5f})"]
        lines += self.task.describe_data(info)
        lines.append(f"  model: {result.model}")
        made_by = info.get("final_learners") or {}  # how each fitted model was made (refit / bagged / Spark)
        if result.ensemble is not None:
            spec = result.ensemble
            if spec.meta_learner_name:
                lines.append(f"    meta_learner = {spec.meta_learner_name}")
            weights = spec.weights or (None,) * len(spec.iterations)
            by_iteration = self._by_iteration()
            for it, name, w in zip(spec.iterations, spec.names, weights):
                lines.append(f"    member iteration {it}: {name}" + (f"  weight={w:.4f}" if w is not None else "")
                             + (f"  ({made_by[it]})" if it in made_by else ""))
                for key, value in sorted(by_iteration[it].params.items()):
                    lines.append(f"        {key} = {value}")
        else:
            if result.iteration in made_by:
                lines.append(f"    final fit: {made_by[result.iteration]}")
            for key, value in sorted(result.params.items()):
                lines.append(f"    {key} = {value}")
        text = "\n".join(lines)
        print(text)
        return text

    # ---- testing, explanations, charts, export -----------------------------------------
    def test(self, child_or_iteration: "int | ChildRun | None" = None, data: Any = None,
             log: bool = True) -> tuple[pd.DataFrame, dict[str, float]]:
        """Score a child's model (best by default) on labelled data it never saw: (predictions, metrics).

        data defaults to the experiment's test set (test_data / test_size). Logged as a test child run
        with every metric and a predictions.csv artifact."""
        from .evaluation import evaluate_on, evaluate_spark

        self._require("test", "test")
        info = self.info
        result = self._result(_iteration_of(child_or_iteration), None)
        task = self.config.task
        if task == "forecasting":
            preds, metrics = self._test_forecast(result, data)
            if log:
                run_id = self._log_test(result, preds, metrics)
                if run_id:
                    self.tracker.log_files({PREDICTIONS_FILE: preds.head(PREDICTIONS_CSV_MAX_ROWS).to_csv(index=False)},
                                           None, run_id)
                self.test_run_id = run_id
            return preds, metrics
        scoring = (info["label"], task, info["classes"], info["positive_label"], info["y_range"], info["weight_column"])
        spark_rows = self._spark_test_rows(data)
        if spark_rows is not None:  # large data: scored in Spark tasks
            preds, metrics = evaluate_spark(self._model(result), spark_rows, *scoring, seed=self.config.seed,
                                            also=(self.config.metric,))
        else:
            frame = self._test_frame(data, "No test data: pass data=<labelled rows> to run.test(), or set test_data / "
                                           "test_size in AutoMLConfig." + (" (This run's test set was too large to "
                                                                           "keep with its record; pass it again.)"
                                                                           if info.get("has_test") else ""))
            preds, metrics = evaluate_on(self._model(result), frame, *scoring, also=(self.config.metric,))
        if log:
            run_id = self._log_test(result, preds, metrics)
            if run_id:
                from .charts import charts_for
                from .table_metrics import tables_for

                classes = info["classes"]
                prediction = (preds[[f"proba_{c}" for c in classes]].to_numpy()
                              if task == "classification" else preds["predicted"].to_numpy())
                files = {PREDICTIONS_FILE: preds.head(PREDICTIONS_CSV_MAX_ROWS).to_csv(index=False)}
                actual = preds["actual"].to_numpy()
                files.update({f"test/charts/{k}": v for k, v in charts_for(
                    task, actual, prediction, classes, positive_label=info.get("positive_label"),
                    target_name=info["label"]).items()})
                files.update({f"test/metrics/{k}": v for k, v in tables_for(task, actual, prediction, classes).items()})
                self.tracker.log_files(files, None, run_id)
            self.test_run_id = run_id
        return preds, metrics

    def _test_frame(self, data: Any, missing: str) -> pd.DataFrame:
        """The rows to test on: `data` as pandas, else the experiment's kept test set."""
        from .evaluation import as_pandas

        if data is not None:
            return as_pandas(data, self.experiment.session())
        if self.info.get("test_frame") is not None:
            return self.info["test_frame"]
        raise ConfigError(missing)

    def _log_test(self, result: TrialResult, preds: pd.DataFrame, metrics: dict[str, float]) -> str | None:
        """The model-test child run (Azure's 'automl.model_test') with every metric."""
        return self.tracker.log_run(f"test_{result.iteration}_{result.model}", metrics,
                                    {"tested_iteration": result.iteration, "model": result.model,
                                     "rows": int(preds.attrs.get("rows", len(preds)))},
                                    {"run_type": "model_test", "iteration": str(result.iteration),
                                     "tested_run_id": str(self.tracker.child_run_ids.get(result.iteration))})

    def _test_forecast(self, result: TrialResult, data: Any) -> tuple[pd.DataFrame, dict[str, float]]:
        """A forecaster on rows after its training data: rolling_forecast from every horizon-th origin (the
        actuals before each origin as context), scored with the forecasting metrics (MASE on each series'
        training history's seasonal-naive scale)."""
        from .forecasting.metrics import forecast_metrics
        from .forecasting.settings import SERIES_ID, TARGET

        info = self.info
        frame = self._test_frame(data, "No test data: pass data=<the rows after the training data, with the label> "
                                       "to run.test(), or set test_data in AutoMLConfig.")
        label = info["label"]
        if label not in frame.columns:
            raise DataError(f"The test rows lack the label column {label!r}: testing compares forecasts with it.")
        model = self._model(result)
        rolled = model.rolling_forecast(frame.drop(columns=[label]), frame[label].to_numpy(), step=info["horizon"])
        scored = pd.DataFrame({SERIES_ID: model.schema.key(rolled).to_numpy(),
                               TARGET: rolled["_automl_actual_y"].to_numpy(np.float64),
                               "yhat": rolled["_automl_forecast_y"].to_numpy(np.float64)})
        scored = scored[np.isfinite(scored[TARGET]) & np.isfinite(scored["yhat"])].reset_index(drop=True)
        if scored.empty:
            raise DataError("No test row could be scored: every actual or forecast is missing.")
        scales = model.naive_scales(scored[SERIES_ID].unique(), info["season_length"])
        metrics, _ = forecast_metrics(scored, scales, info.get("y_range") or 1.0, also=(self.config.metric,))
        rolled.attrs["rows"] = len(scored)
        return rolled, metrics

    def _spark_test_rows(self, data: Any):
        """The Spark DataFrame run.test() scores in Spark: a large run's own test rows, or a Spark
        DataFrame / table / path the caller passed (never collected whole)."""
        from pyspark.sql import DataFrame

        if data is None:
            state = getattr(self._problem, "state", None)
            return getattr(state, "full_test", None)
        if isinstance(data, DataFrame):
            return data
        if isinstance(data, str):
            from .data.ingest import to_spark

            return to_spark(self.experiment.session(), data, "data")
        return None

    def explain(self, child_or_iteration: "int | ChildRun | None" = None, data: Any = None,
                log: bool = True, max_seconds: float | None = None) -> pd.DataFrame:
        """Global importance of each RAW input column (SHAP for tree models, else permutation),
        on `data` (default: a sample of the validation rows). Logged as a table and a bar chart.
        max_seconds bounds a permutation explanation (fewer rows on wide data / ensembles)."""
        from .charts import feature_importance_chart
        from .evaluation import as_pandas
        from .explain import explain_model

        self._require("explain", "explain")
        info = self.info
        result = self._result(_iteration_of(child_or_iteration), None)
        if self.config.task == "forecasting":  # the global learners' lag, calendar and covariate features
            from .forecasting.explain import explain_forecaster

            importance = explain_forecaster(self._model(result), seed=self.config.seed)
            if log:
                self.tracker.log_files({"feature_importance.csv": importance.to_csv(index=False),
                                        "feature_importance.png": feature_importance_chart(importance)},
                                       "explanations", self.tracker.run_of(result.iteration))
            return importance
        frame = self._kept_rows() if data is None else as_pandas(data, self.experiment.session(), role="data")
        label = info["label"]
        missing = [c for c in info["feature_columns"] if c not in frame.columns]
        if missing:
            raise ConfigError(f"run.explain(data=...) lacks the feature column(s) {missing[:10]}; pass rows with "
                              "every column the model was trained on.")
        y = frame[label].to_numpy() if label in frame.columns else None
        if y is not None:
            keep = pd.notna(y)
            frame, y = frame[keep].reset_index(drop=True), y[keep]
        importance = explain_model(self._model(result), frame[info["feature_columns"]], y, self.config.task,
                                   info["classes"], seed=self.config.seed, max_seconds=max_seconds)
        if log:
            self.tracker.log_files({"feature_importance.csv": importance.to_csv(index=False),
                                    "feature_importance.png": feature_importance_chart(importance)},
                                   "explanations", self.tracker.run_of(result.iteration))
        return importance

    def log_charts(self, child_or_iteration: "int | ChildRun | None" = None) -> dict[int, list[str]]:
        """Validation charts (from the out-of-fold / holdout predictions) for the chosen child, or by
        default for the best child and every ensemble. Returns the chart names per iteration."""
        if child_or_iteration is None:
            chosen = [self.best] + [r for r in self.results
                                    if r.ensemble is not None and r.status == "ok" and r is not self.best]
        else:
            chosen = [self._result(_iteration_of(child_or_iteration), None)]
        chosen = [r for r in chosen if r.oof is not None]
        if not chosen:
            raise ConfigError("The validation predictions of that child are not kept with the run record "
                              "(only the best model's and the ensembles' are).")
        out = {}
        for r in chosen:
            charts = self.task.validation_charts(self.config, self.info, r)
            self.tracker.log_files(charts, "charts", self.tracker.run_of(r.iteration))
            out[r.iteration] = sorted(charts)
        return out

    def log_forecast_chart(self, iteration: "int | ChildRun | None" = None) -> list[str]:
        """Forecasting: the model's next horizon after the recent history, with its 80/95 intervals,
        for the series of the validation chart; logged as charts/forecast.png on that child."""
        from .forecasting.charts import MAX_PANELS, forecast_chart
        from .forecasting.settings import SERIES_ID, TARGET, TIME
        from .tasks.forecasting import chart_labels

        self._require("forecast", "log_forecast_chart")
        info, result = self.info, self._result(_iteration_of(iteration), None)
        model = self._model(result)
        if model.uses_covariates:
            _log.info("log_forecast_chart: the model needs future covariates; call run.forecast(X_future) instead")
            return []
        history = pd.concat([info["chart_history"], info["chart_scored"]], ignore_index=True)
        future = model.future_frame()
        drawn = set(list(dict.fromkeys(history[SERIES_ID]))[:MAX_PANELS])  # forecast only what the chart draws
        future = future[model.schema.key(future).isin(drawn).to_numpy()]
        predicted = model.forecast(future)
        predicted[SERIES_ID] = model.schema.key(predicted).to_numpy()
        predicted[TIME] = predicted[model.schema.time_column].to_numpy()
        png = forecast_chart(history[[SERIES_ID, TIME, TARGET]].drop_duplicates([SERIES_ID, TIME], keep="last"),
                             predicted, info["season_length"], **chart_labels(self.config))
        self.tracker.log_files({"forecast.png": png}, "charts", self.tracker.run_of(result.iteration))
        return ["forecast.png"]

    def export_onnx(self, child_or_iteration: "int | ChildRun | None" = None, path: str | None = None):
        """The pipeline (featurizer included) as ONNX, checked against the Python model with
        onnxruntime on validation rows. Returns (onnx model, check report); logged beside the model."""
        import json

        self._require("onnx", "export_onnx")
        require_extra("onnx", "run.export_onnx()")
        from .export.onnx import check_onnx, to_onnx

        info = self.info
        result = self._result(_iteration_of(child_or_iteration), None)
        model = self._model(result)
        features = info["feature_columns"]
        onx = to_onnx(model, info["input_example"][features])
        check = check_onnx(model, onx, self._kept_rows()[features], self.config.task)
        payload = onx.SerializeToString()
        if path:
            with open(path, "wb") as fh:
                fh.write(payload)
        self.tracker.log_files({"model.onnx": payload, "onnx_check.json": json.dumps(check, indent=2, default=str)},
                               "onnx", self.tracker.run_of(result.iteration))
        return onx, check

    def generate_code(self, child_or_iteration: "int | ChildRun | None" = None,
                      log: bool = True) -> dict[str, str]:
        """A standalone training script and a Databricks notebook that rebuild this child's pipeline
        from the raw data and print its validation score."""
        from .export.codegen import generate
        from .export.forecast_codegen import generate_forecasting

        self._require("code", "generate_code")
        result = self._result(_iteration_of(child_or_iteration), None)
        if self.config.task == "forecasting":
            files = generate_forecasting(self.config, result, self.results)
        else:
            files = generate(self.config, self.info["classes"], result, self.results, self.info.get("estimator_args"),
                             self.info.get("bag_folds", 0), self.info.get("bagged"))
        if log:
            self.tracker.log_files(files, "generated_code", self.tracker.run_of(result.iteration))
        return files

    # ---- logging and the registry ----------------------------------------------------
    def log_model(self, iteration: int | None = None, retry: bool = True) -> str | None:
        """Log the best (or chosen) model to its child run; returns its URI, or None when the
        tracking store failed (with a warning: the model stays on this run, call again).
        retry: try a store that timed out earlier in this run again (the run's own call does not)."""
        result = self._result(iteration, None)
        model = self._model(result)
        problem = self._problem
        if problem is None:
            raise ConfigError("This run was re-attached from MLflow: its model is already logged at "
                              f"{self.model_uri!r}.")
        flavor, payload, example, signature = self.task.model_payload(problem, model)
        if retry:
            self.tracker.reconnect()
        uri = self.tracker.log_model(flavor, payload, self.tracker.run_of(result.iteration), example, signature)
        if uri is not None and result.iteration == self.record.best_iteration:
            self.record.model_uri = uri
            self.record.info["model_flavor"] = flavor
        return uri

    def register_model(self, model_name: str | None = None, description: str | None = None,
                       tags: dict[str, str] | None = None, iteration: int | None = None, metric: str | None = None,
                       alias: str | None = "champion"):
        """Register the best (or chosen) model in the MLflow Model Registry and set an alias."""
        result = self._result(iteration, metric)
        uri = self.model_uri if result.iteration == self.record.best_iteration else self.log_model(result.iteration)
        if uri is None:
            raise ConfigError("The model is not logged (the tracking store failed): call run.log_model() first.")
        name = model_name or f"{self.experiment.name}-model"
        version = self.tracker.register(uri, name, alias, description,
                                        {**(tags or {}), "iteration": str(result.iteration), "model": result.model})
        self.registered_model = version
        self.tracker.tag_parent({"automl.registered_model": f"{name}/{version.version}"})
        return version

    # ---- helpers ------------------------------------------------------------------
    def _kept_rows(self) -> pd.DataFrame:
        frame = self.info.get("holdout_frame")
        if frame is None:
            raise ConfigError("This run keeps no validation rows (a re-attached run with model_input_example=None): "
                              "pass data=<DataFrame> with the feature columns and the label.")
        return frame

    def _require(self, capability: str, method: str) -> None:
        if capability not in self.task.capabilities:
            raise ConfigError(f"run.{method}() is not available for task={self.config.task!r}. "
                              + ("For forecasting use run.forecast(X_future), run.per_series_metrics() and "
                                 "run.log_charts()." if self.config.task == "forecasting" else ""))

    def _child(self, r: TrialResult) -> ChildRun:
        parent_id = (self.id or "local").replace("-", "")
        props = {"model_name": f"AutoML{parent_id[:10]}{r.iteration}", "iteration": r.iteration,
                 "run_algorithm": r.model, "score": r.score, "primary_metric": self.config.metric,
                 "run_preprocessor": self.task.pipeline_prefix.strip(), "status": r.status}
        if r.ensemble is not None:
            props["ensembled_iterations"] = list(r.ensemble.iterations)
            props["ensembled_algorithms"] = list(r.ensemble.names)
        return ChildRun.from_result(r, self.tracker.child_run_ids.get(r.iteration), self, props)

    def _by_iteration(self) -> dict[int, TrialResult]:
        return {r.iteration: r for r in self.results}

    def _check_metric(self, metric: str | None) -> str | None:
        family = "classification" if self.config.task == "classification" else "regression"
        known = metric in METRICS or metric in CUSTOM_METRICS
        if metric is not None and (not known or metric_spec(metric).task != family):
            raise ConfigError(f"Unknown metric {metric!r} for task {self.config.task!r}.")
        return metric

    def _result(self, iteration: int | None, metric: str | None) -> TrialResult:
        from .orchestrator import best_result

        iteration = _iteration_of(iteration)
        if iteration is None:
            return best_result(self.results, self._check_metric(metric)) if metric else self.best
        r = self._by_iteration().get(iteration)
        if r is None:
            raise ConfigError(f"No iteration {iteration}; valid iterations: "
                              f"{min(self._by_iteration())}..{max(self._by_iteration())}.")
        if r.status != "ok":
            raise ConfigError(f"Iteration {iteration} did not succeed ({r.status}): "
                              f"{r.error.splitlines()[0] if r.error else ''}")
        return r

    def _model(self, result: TrialResult):
        with self._lock:
            if self._models.get(result.iteration) is None:
                self._models[result.iteration] = self._load_or_refit(result)
            return self._models[result.iteration]

    def _load_or_refit(self, result: TrialResult):
        if result.iteration == self.record.best_iteration and self.model_uri:
            return self.tracker.load_model(self.model_uri, self.info.get("model_flavor", "sklearn"))
        if self._problem is None:
            raise ConfigError(f"Iteration {result.iteration}'s model was not logged, and this run was re-attached "
                              "from MLflow without its training data: only the best model (iteration "
                              f"{self.record.best_iteration}) can be loaded. Register or log a model in the "
                              "session that submitted the run to keep it.")
        return self.task.fit_final(self._problem, result, self.results, self.config, self._fitted,
                                   self.experiment.session())

    def __repr__(self) -> str:
        if "record" not in self.__dict__ and self._control is not None and not self._control.done.is_set():
            return f"AutoMLRun(id={self._control.parent_run_id!r}, status={self.status!r})"
        if self.record.best_iteration is None:
            return f"AutoMLRun(id={self.id!r}, trials={len(self.results)}, status={self.status!r}, no model)"
        best = self.best
        return (f"AutoMLRun(id={self.id!r}, trials={len(self.results)}, best={best.model} "
                f"{self.config.metric}={best.score:.5f})")


def _iteration_of(child_or_iteration: "int | ChildRun | None") -> int | None:
    if isinstance(child_or_iteration, ChildRun):
        return child_or_iteration.iteration
    return child_or_iteration


def _record_from_checkpoint(tracker: Tracker, run_id: str):
    """A run that never logged its record (the driver died): its settings and finished trials from the
    checkpoint, no model. It can be read, and resumed with continue_experiment()."""
    from .tracking import TrackingError

    config, trials = tracker.load_checkpoint(run_id)
    if config is None:
        raise TrackingError(f"Run {run_id!r} has neither a run record nor a checkpoint: it failed before its "
                            "search started.")
    mlflow_run = tracker.adopt_parent(run_id)
    record = RunRecord(config.task, config, trials, None, dict(tracker.child_run_ids), [], {},
                       stop_reason="the driver stopped before the run finished (continue_experiment() resumes it)")
    return record, mlflow_run
