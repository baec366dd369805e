"""The objects a user holds after submit(): AutoMLRun and its child runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .config import AutoMLConfig
from .data.guardrails import to_frame
from .data.prepare import PreparedData
from .engine import SearchOutcome, best_result, refit
from .errors import ConfigError
from .metrics import METRICS
from .search.trial import TrialResult
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
        return cls(run_id, r.iteration, r.model, r.status, dict(r.metrics), dict(r.params), r.duration, r.error)


class AutoMLRun:
    """Parent run of an experiment: leaderboard, best model, registration."""

    def __init__(self, config: AutoMLConfig, prepared: PreparedData, outcome: SearchOutcome, tracker: Tracker,
                 best_model, best: TrialResult, model_uri: str | None, wall_seconds: float,
                 fitted: dict[int, Any] | None = None):
        self.config = config
        self.prepared = prepared
        self.outcome = outcome
        self.tracker = tracker
        self.best = best
        self.model_uri = model_uri
        self.wall_seconds = wall_seconds
        self._models = {best.iteration: best_model}
        self._fitted = fitted if fitted is not None else {}  # member estimators refit on all rows, by iteration
        self._lock = threading.Lock()
        self.registered_model = None
        self.test_run_id: str | None = None
        self.timings: dict[str, float] = {}  # seconds of each step after the search (ensembling, refit, ...)

    # ---- identity -----------------------------------------------------------------
    @property
    def id(self) -> str | None:
        return self.tracker.parent_run_id

    @property
    def status(self) -> str:
        return "Completed"

    @property
    def primary_metric(self) -> str:
        return self.config.metric

    # ---- results ------------------------------------------------------------------
    @property
    def leaderboard(self) -> pd.DataFrame:
        """Every trial, best first (ties broken by iteration, so the order is deterministic)."""
        metric = self.config.metric
        rows = [{
            "iteration": r.iteration, "pipeline": r.model if r.ensemble else f"AutoFeaturizer, {r.model}",
            "model": r.model,
            "status": r.status, metric: r.score, "duration_s": round(r.duration, 3), "origin": r.origin,
            "run_id": self.tracker.child_run_ids.get(r.iteration), "params": r.params,
        } for r in self.outcome.results]
        frame = pd.DataFrame(rows)
        if frame.empty:
            return frame
        ok = frame["status"] == "ok"
        frame["_loss"] = [r.loss if r.status == "ok" else float("inf") for r in self.outcome.results]
        frame = frame.sort_values(["_loss", "iteration"], kind="mergesort").drop(columns="_loss")
        frame.attrs["ok_trials"] = int(ok.sum())
        return frame.reset_index(drop=True)

    def get_children(self) -> list[ChildRun]:
        return [ChildRun.from_result(r, self.tracker.child_run_ids.get(r.iteration))
                for r in sorted(self.outcome.results, key=lambda r: r.iteration)]

    def get_best_child(self, metric: str | None = None) -> ChildRun:
        r = best_result(self.outcome.results, self._check_metric(metric))
        return ChildRun.from_result(r, self.tracker.child_run_ids.get(r.iteration))

    def get_metrics(self) -> dict[str, dict[str, float]]:
        """Metrics of every child run, keyed by iteration (Azure returns them per child)."""
        return {r.iteration: dict(r.metrics) for r in self.outcome.results}

    def get_guardrails(self) -> pd.DataFrame:
        return to_frame(self.prepared.guardrails)

    def get_output(self, iteration: int | None = None, metric: str | None = None):
        """(best or chosen ChildRun, fitted scikit-learn Pipeline). Non-best models are refit on demand."""
        result = self._result(iteration, metric)
        return ChildRun.from_result(result, self.tracker.child_run_ids.get(result.iteration)), self._model(result)

    def summary(self) -> pd.DataFrame:
        board = self.leaderboard
        return board.groupby("model").agg(trials=("iteration", "count"), best=(self.config.metric, "max" if METRICS[self.config.metric].greater_is_better else "min")).reset_index()

    def print_model(self, iteration: int | "ChildRun" | None = None) -> str:
        """The featurization steps, the estimator and its hyperparameters; ensemble members with weights."""
        result = self._result(_iteration_of(iteration), None)
        model = self._model(result)
        lines = [f"Pipeline (iteration {result.iteration}, {self.config.metric}={result.score:.5f})", "  featurizer:"]
        for plan in model.named_steps["featurizer"].plans:
            lines.append(f"    {plan.name:<28} {plan.purpose:<12} {plan.reason}")
        lines.append(f"  model: {result.model}")
        if result.ensemble is not None:
            spec = result.ensemble
            if spec.meta_learner_name:
                lines.append(f"    meta_learner = {spec.meta_learner_name}")
            weights = spec.weights or (None,) * len(spec.iterations)
            by_iteration = {r.iteration: r for r in self.outcome.results}
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
        from .evaluation import as_pandas, evaluate_on

        result = self._result(_iteration_of(child_or_iteration), None)
        if data is None:
            if self.prepared.test_frame is None:
                raise ConfigError("No test data: pass data=<labelled rows> to run.test(), or set test_data / "
                                  "test_size in AutoMLConfig.")
            frame = self.prepared.test_frame
        else:
            frame = as_pandas(data)
        s = self.prepared.search
        preds, metrics = evaluate_on(self._model(result), frame, self.prepared.label, self.config.task, s.classes,
                                     s.positive_label, s.y_range, self.prepared.weight_column)
        if log:
            run_id = self.tracker.log_run(f"test_{result.iteration}_{result.model}", metrics,
                                          {"tested_iteration": result.iteration, "model": result.model,
                                           "rows": len(preds)},
                                          {"run_type": "model_test", "iteration": str(result.iteration)})
            if run_id:
                from .charts import charts_for

                prediction = (preds[[f"proba_{c}" for c in s.classes]].to_numpy()
                              if self.config.task == "classification" else preds["predicted"].to_numpy())
                files = {"predictions.csv": preds.to_csv(index=False)}
                files.update({f"charts/{k}": v for k, v in charts_for(self.config.task, preds["actual"].to_numpy(),
                                                                       prediction, s.classes).items()})
                self.tracker.log_files(files, "test", run_id)
            self.test_run_id = run_id
        return preds, metrics

    def explain(self, child_or_iteration: "int | ChildRun | None" = None, data: Any = None,
                log: bool = True, max_seconds: float | None = None) -> pd.DataFrame:
        """Global importance of each RAW input column (SHAP for tree models, else permutation),
        on `data` (default: a sample of the validation rows). Logged as a table and a bar chart.
        max_seconds bounds a permutation explanation (fewer rows on wide data / ensembles)."""
        from .charts import feature_importance_chart
        from .evaluation import as_pandas
        from .explain import explain_model

        result = self._result(_iteration_of(child_or_iteration), None)
        frame = self.prepared.holdout_frame if data is None else as_pandas(data, role="data")
        label = self.prepared.label
        y = frame[label].to_numpy() if label in frame.columns else None
        if y is not None:
            keep = pd.notna(y)
            frame, y = frame[keep].reset_index(drop=True), y[keep]
        importance = explain_model(self._model(result), frame[self.prepared.feature_columns], y, self.config.task,
                                   self.prepared.search.classes, seed=self.config.seed, max_seconds=max_seconds)
        if log:
            run_id = self.tracker.child_run_ids.get(result.iteration) or self.tracker.parent_run_id
            self.tracker.log_files({"feature_importance.csv": importance.to_csv(index=False),
                                    "feature_importance.png": feature_importance_chart(importance)},
                                   "explanations", run_id)
        return importance

    def log_charts(self, child_or_iteration: "int | ChildRun | None" = None) -> dict[int, list[str]]:
        """Validation charts (from the out-of-fold / holdout predictions) for the chosen child, or by
        default for the best child and every ensemble. Returns the chart names per iteration."""
        from .charts import charts_for
        from .search.trial import scored_rows

        if child_or_iteration is None:
            chosen = [self.best] + [r for r in self.outcome.results
                                    if r.ensemble is not None and r.status == "ok" and r is not self.best]
        else:
            chosen = [self._result(_iteration_of(child_or_iteration), None)]
        s = self.prepared.search
        rows = scored_rows(s)
        weight = s.weight[rows] if s.weight is not None else None
        out = {}
        for r in chosen:
            charts = charts_for(self.config.task, s.y[rows], r.oof[rows], s.classes, weight)
            run_id = self.tracker.child_run_ids.get(r.iteration) or self.tracker.parent_run_id
            self.tracker.log_files(charts, "charts", run_id)
            out[r.iteration] = sorted(charts)
        return out

    def export_onnx(self, child_or_iteration: "int | ChildRun | None" = None, path: str | None = None):
        """The pipeline (featurizer included) as ONNX, checked against the Python model with
        onnxruntime on validation rows. Returns (onnx model, check report); logged beside the model."""
        import json

        from .export.onnx import check_onnx, to_onnx

        result = self._result(_iteration_of(child_or_iteration), None)
        model = self._model(result)
        features = self.prepared.feature_columns
        onx = to_onnx(model, self.prepared.input_example[features])
        check = check_onnx(model, onx, self.prepared.holdout_frame[features], self.config.task)
        payload = onx.SerializeToString()
        if path:
            with open(path, "wb") as fh:
                fh.write(payload)
        run_id = self.tracker.child_run_ids.get(result.iteration) or self.tracker.parent_run_id
        self.tracker.log_files({"model.onnx": payload, "onnx_check.json": json.dumps(check, indent=2, default=str)},
                               "onnx", run_id)
        return onx, check

    def generate_code(self, child_or_iteration: "int | ChildRun | None" = None,
                      log: bool = True) -> dict[str, str]:
        """A standalone training script and a Databricks notebook that rebuild this child's pipeline
        from the raw data and print its validation score."""
        from .export.codegen import generate

        result = self._result(_iteration_of(child_or_iteration), None)
        files = generate(self.config, self.prepared, result, self.outcome.results)
        if log:
            run_id = self.tracker.child_run_ids.get(result.iteration) or self.tracker.parent_run_id
            self.tracker.log_files(files, "generated_code", run_id)
        return files

    # ---- registry -----------------------------------------------------------------
    def register_model(self, model_name: str | None = None, description: str | None = None,
                       tags: dict[str, str] | None = None, iteration: int | None = None, metric: str | None = None,
                       alias: str | None = "champion"):
        """Register the best (or chosen) model in the MLflow Model Registry and set an alias."""
        result = self._result(iteration, metric)
        uri = self.model_uri if result.iteration == self.best.iteration else self._log_model(result)
        name = model_name or f"{self.tracker.experiment_name}-model"
        version = self.tracker.register(uri, name, alias, description,
                                        {**(tags or {}), "iteration": str(result.iteration), "model": result.model})
        self.registered_model = version
        return version

    def _log_model(self, result: TrialResult) -> str:
        from .experiment import model_signature

        run_id = self.tracker.child_run_ids.get(result.iteration) or self.tracker.parent_run_id
        example = self.prepared.input_example
        return self.tracker.log_model(self._model(result), run_id, example, model_signature(self._model(result), example))

    # ---- helpers ------------------------------------------------------------------
    def _check_metric(self, metric: str | None) -> str | None:
        if metric is not None and (metric not in METRICS or METRICS[metric].task != _metric_family(self.config.task)):
            raise ConfigError(f"Unknown metric {metric!r} for task {self.config.task!r}.")
        return metric

    def _result(self, iteration: int | None, metric: str | None) -> TrialResult:
        iteration = _iteration_of(iteration)
        if iteration is None:
            return best_result(self.outcome.results, self._check_metric(metric)) if metric else self.best
        for r in self.outcome.results:
            if r.iteration == iteration:
                if r.status != "ok":
                    raise ConfigError(f"Iteration {iteration} did not succeed ({r.status}): {r.error.splitlines()[0] if r.error else ''}")
                return r
        raise ConfigError(f"No iteration {iteration}; valid iterations: 0..{len(self.outcome.results) - 1}.")

    def _model(self, result: TrialResult):
        with self._lock:
            if result.iteration not in self._models:
                self._models[result.iteration] = refit(self.prepared, result, self.outcome.results,
                                                       self.config.seed, self.config.cores_per_trial,
                                                       self.config.max_concurrent_iterations, self._fitted)
            return self._models[result.iteration]

    def __repr__(self) -> str:
        return (f"AutoMLRun(id={self.id!r}, trials={len(self.outcome.results)}, best={self.best.model} "
                f"{self.config.metric}={self.best.score:.5f})")


def _iteration_of(child_or_iteration: "int | ChildRun | None") -> int | None:
    if isinstance(child_or_iteration, ChildRun):
        return child_or_iteration.iteration
    return child_or_iteration


def _metric_family(task: str) -> str:
    return "classification" if task == "classification" else "regression"
