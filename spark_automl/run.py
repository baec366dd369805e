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
                 best_model, best: TrialResult, model_uri: str | None, wall_seconds: float):
        self.config = config
        self.prepared = prepared
        self.outcome = outcome
        self.tracker = tracker
        self.best = best
        self.model_uri = model_uri
        self.wall_seconds = wall_seconds
        self._models = {best.iteration: best_model}
        self._lock = threading.Lock()
        self.registered_model = None

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
            "iteration": r.iteration, "pipeline": f"AutoFeaturizer, {r.model}", "model": r.model,
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

    def print_model(self, iteration: int | None = None) -> str:
        result = self._result(iteration, None)
        model = self._model(result)
        lines = [f"Pipeline (iteration {result.iteration}, {self.config.metric}={result.score:.5f})", "  featurizer:"]
        for plan in model.named_steps["featurizer"].plans:
            lines.append(f"    {plan.name:<28} {plan.purpose:<12} {plan.reason}")
        lines.append(f"  model: {result.model}")
        for key, value in sorted(result.params.items()):
            lines.append(f"    {key} = {value}")
        text = "\n".join(lines)
        print(text)
        return text

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
                self._models[result.iteration] = refit(self.prepared, result, self.config.seed,
                                                       self.config.cores_per_trial)
            return self._models[result.iteration]

    def __repr__(self) -> str:
        return (f"AutoMLRun(id={self.id!r}, trials={len(self.outcome.results)}, best={self.best.model} "
                f"{self.config.metric}={self.best.score:.5f})")


def _metric_family(task: str) -> str:
    return "classification" if task == "classification" else "regression"
