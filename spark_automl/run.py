"""AutoMLRun: a handle over one experiment's parent run in MLflow.

A run returned by submit() and one re-attached later by id (`AutoMLRun(experiment, run_id)`,
`Experiment.get_run(run_id)`), in a new process, behave alike: everything they need (the
trials, the settings, what tests and explanations read) is the run record logged at submit
time, and the model is the logged one. The handle computes on demand and logs through the
experiment's Tracker; it holds no training matrix unless it was submitted in this process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import ConfigError
from .metrics import METRICS
from .search.trial import TrialResult
from .tasks import RunRecord, Task, task_for
from .tracking import Tracker


@dataclass
class ChildRun:
    """One trial as the user sees it (Azure's child Run): id, metrics, parameters."""

    run_id: str | None
    iteration: int
    model_name: str
    status: str
    metrics: dict[str, float]
    params: dict[str, Any]
    duration: float
    error: str = ""
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str | None:
        return self.run_id

    def get_metrics(self) -> dict[str, float]:
        return dict(self.metrics)

    def get_details(self) -> dict[str, Any]:
        return {"runId": self.run_id, "iteration": self.iteration, "model_name": self.model_name,
                "status": self.status, "params": self.params, "error": self.error}

    @classmethod
    def from_result(cls, r: TrialResult, run_id: str | None) -> "ChildRun":
        return cls(run_id, r.iteration, r.model, r.status, dict(r.metrics), dict(r.params), r.duration, r.error,
                   {"worker": r.worker} if r.worker else {})


PREDICTIONS_CSV_MAX_ROWS = 200_000  # a test set's predictions.csv artifact keeps at most this many rows


class AutoMLRun:
    """Parent run of an experiment: leaderboard, children, best model, tests, explanations,
    exports and registration. `AutoMLRun(experiment, run_id)` re-attaches to a finished run."""

    def __init__(self, experiment, run_id: str):
        tracker = Tracker(experiment.name, experiment.tracking_uri, experiment.registry_uri)
        tracker.find_experiment()
        record, mlflow_run = tracker.load_record(run_id)
        self._init(experiment, tracker, record, task_for(record.task))
        self._status = mlflow_run.info.status

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
        self.experiment, self.tracker, self.record, self.task = experiment, tracker, record, task
        self._models: dict[int, Any] = {}
        self._problem = None  # the prepared data, only in the process that submitted the run
        self._fitted: dict[int, Any] = {}  # ensemble members refit on all rows, by iteration
        self._lock = threading.Lock()
        self._status = "FINISHED"
        self.registered_model = None
        self.test_run_id: str | None = None

    # ---- identity -----------------------------------------------------------------
    @property
    def id(self) -> str | None:
        return self.tracker.parent_run_id

    @property
    def status(self) -> str:
        return {"FINISHED": "Completed", "FAILED": "Failed", "RUNNING": "Running",
                "KILLED": "Canceled"}.get(self._status, self._status)

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

    def get_children(self) -> list[ChildRun]:
        return [self._child(r)
                for r in sorted(self.results, key=lambda r: r.iteration)]

    def get_best_child(self, metric: str | None = None) -> ChildRun:
        r = self._result(None, metric)
        return self._child(r)

    def get_metrics(self) -> dict[int, dict[str, float]]:
        """Metrics of every child run, keyed by iteration (Azure returns them per child)."""
        return {r.iteration: dict(r.metrics) for r in self.results}

    def get_guardrails(self) -> pd.DataFrame:
        return pd.DataFrame([{"guardrail": g["name"], "status": g["status"], "description": g["description"]}
                             for g in self.record.guardrails], columns=["guardrail", "status", "description"])

    def get_output(self, iteration: int | None = None, metric: str | None = None):
        """(best or chosen ChildRun, fitted model): the logged model when there is one; another
        child's model is refit on demand in the process that submitted the run."""
        result = self._result(iteration, metric)
        return self._child(result), self._model(result)

    @property
    def model(self):
        """The best model (a scikit-learn Pipeline, or a ForecastingModel)."""
        return self._model(self.best)

    def summary(self) -> pd.DataFrame:
        board = self.leaderboard
        greater = METRICS[self.config.metric].greater_is_better
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
        info = self.info
        fallback = info.get("fallback") or {}
        return series_table(info.get("searched_series", []), self._result(iteration, None).model,
                            fallback.get("lengths", {}), fallback.get("choice"), fallback.get("min_length", 0))

    def forecast(self, X_future: pd.DataFrame | None = None, iteration: int | None = None) -> pd.DataFrame:
        """Forecasting: the model's forecast for X_future (default: every series, the whole horizon)."""
        self._require("forecast", "forecast")
        return self._model(self._result(iteration, None)).forecast(X_future)

    def print_model(self, iteration: "int | ChildRun | None" = None) -> str:
        """The featurization steps, the estimator and its hyperparameters; ensemble members with weights."""
        result = self._result(_iteration_of(iteration), None)
        info = self.info
        lines = [f"Model (iteration {result.iteration}, {self.config.metric}={result.score:.5f})"]
        lines += self.task.describe_data(info)
        lines.append(f"  model: {result.model}")
        if result.ensemble is not None:
            spec = result.ensemble
            if spec.meta_learner_name:
                lines.append(f"    meta_learner = {spec.meta_learner_name}")
            weights = spec.weights or (None,) * len(spec.iterations)
            by_iteration = self._by_iteration()
            for it, name, w in zip(spec.iterations, spec.names, weights):
                lines.append(f"    member iteration {it}: {name}" + (f"  weight={w:.4f}" if w is not None else ""))
                for key, value in sorted(by_iteration[it].params.items()):
                    lines.append(f"        {key} = {value}")
        else:
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
        from .evaluation import as_pandas, evaluate_on, evaluate_spark

        self._require("test", "test")
        info = self.info
        result = self._result(_iteration_of(child_or_iteration), None)
        task = self.config.task
        scoring = (info["label"], task, info["classes"], info["positive_label"], info["y_range"], info["weight_column"])
        spark_rows = self._spark_test_rows(data)
        if spark_rows is not None:  # large data: scored in Spark tasks
            preds, metrics = evaluate_spark(self._model(result), spark_rows, *scoring, seed=self.config.seed)
        else:
            if data is not None:
                frame = as_pandas(data, self.experiment.session())
            elif info.get("test_frame") is not None:
                frame = info["test_frame"]
            else:
                raise ConfigError("No test data: pass data=<labelled rows> to run.test(), or set test_data / "
                                  "test_size in AutoMLConfig." + (" (This run's test set was too large to keep "
                                                                  "with its record; pass it again.)"
                                                                  if info.get("has_test") else ""))
            preds, metrics = evaluate_on(self._model(result), frame, *scoring)
        if log:
            run_id = self.tracker.log_run(f"test_{result.iteration}_{result.model}", metrics,
                                          {"tested_iteration": result.iteration, "model": result.model,
                                           "rows": int(preds.attrs.get("rows", len(preds)))},
                                          {"run_type": "model_test", "iteration": str(result.iteration)})
            if run_id:
                from .charts import charts_for

                classes = info["classes"]
                prediction = (preds[[f"proba_{c}" for c in classes]].to_numpy()
                              if task == "classification" else preds["predicted"].to_numpy())
                files = {"predictions.csv": preds.head(PREDICTIONS_CSV_MAX_ROWS).to_csv(index=False)}
                files.update({f"charts/{k}": v for k, v in charts_for(task, preds["actual"].to_numpy(),
                                                                       prediction, classes).items()})
                self.tracker.log_files(files, "test", run_id)
            self.test_run_id = run_id
        return preds, metrics

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

    def export_onnx(self, child_or_iteration: "int | ChildRun | None" = None, path: str | None = None):
        """The pipeline (featurizer included) as ONNX, checked against the Python model with
        onnxruntime on validation rows. Returns (onnx model, check report); logged beside the model."""
        import json

        from .export.onnx import check_onnx, to_onnx

        self._require("onnx", "export_onnx")
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

        self._require("code", "generate_code")
        result = self._result(_iteration_of(child_or_iteration), None)
        files = generate(self.config, self.info["classes"], result, self.results)
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
        return ChildRun.from_result(r, self.tracker.child_run_ids.get(r.iteration))

    def _by_iteration(self) -> dict[int, TrialResult]:
        return {r.iteration: r for r in self.results}

    def _check_metric(self, metric: str | None) -> str | None:
        family = "classification" if self.config.task == "classification" else "regression"
        if metric is not None and (metric not in METRICS or METRICS[metric].task != family):
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
        if self.record.best_iteration is None:
            return f"AutoMLRun(id={self.id!r}, trials={len(self.results)}, status={self.status!r}, no model)"
        best = self.best
        return (f"AutoMLRun(id={self.id!r}, trials={len(self.results)}, best={best.model} "
                f"{self.config.metric}={best.score:.5f})")


def _iteration_of(child_or_iteration: "int | ChildRun | None") -> int | None:
    if isinstance(child_or_iteration, ChildRun):
        return child_or_iteration.iteration
    return child_or_iteration
