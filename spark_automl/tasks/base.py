"""The task strategy: what differs between tabular learning and forecasting, behind one
interface the orchestrator drives. Everything else (budget, backends, tracking, ensembles,
refit, artifacts) is the orchestrator's and is shared."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from ..budget import refit_footprint
from ..config import AutoMLConfig
from ..metrics import ValidationTarget
from ..search.sweeper import Sweeper
from ..search.trial import Evaluator, TrialResult

Say = Callable[[str], None]


@dataclass
class Problem:
    """A prepared experiment: what the search evaluates and what the final model is built from.

    `state` is the task's own prepared data (kept on the driver, never in the run handle)."""

    evaluator: Evaluator
    target: ValidationTarget
    sweeper: Sweeper
    n_splits: int
    n_rows: int
    n_features: int
    guardrails: list
    description: str  # one line for the progress output
    state: Any
    skipped: dict[str, str] = field(default_factory=dict)  # model -> why the search leaves it out
    holdout: bool = False  # one validation split (not k folds)
    explained_columns: int = 0  # the columns an explanation permutes (its share of the finish reserve)
    bag_folds: int = 0  # k when members' final models may be their k fold models (tabular k-fold CV), else 0


ROW_KEYS = ("holdout_frame", "test_frame")  # record entries that hold user rows


@dataclass
class RunRecord:
    """What a run handle needs after submit(), in this process or re-attached from MLflow:
    small, picklable, free of training matrices. Logged at submit time."""

    task: str
    config: AutoMLConfig  # the settings, with in-memory data replaced by None (tables and paths kept)
    results: list[TrialResult]
    best_iteration: int | None  # None: no trial succeeded (a failed run)
    child_run_ids: dict[int, str]
    guardrails: list[dict]
    info: dict[str, Any]  # the task's own: label, classes, frames for tests/explanations, series schema...
    model_uri: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0
    first_trial_seconds: float | None = None  # from submit() to the first successful trial
    # what the budget priced for the stages after the search ('refit', 'model_logging'), beside `timings`
    expected_timings: dict[str, float] = field(default_factory=dict)
    stop_reason: str = ""
    backend: str = ""

    def slim(self) -> "RunRecord":
        """The record to log: validation predictions kept only for the best model and the
        ensembles (charts), so its size does not grow with trials x rows; without user rows
        when model_input_example is None."""
        import copy

        keep = {self.best_iteration} | {r.iteration for r in self.results if r.ensemble is not None}
        out = copy.copy(self)
        if self.config.model_input_example is None:  # no user row leaves the process
            out.info = {k: v for k, v in self.info.items() if k not in ROW_KEYS}
        out.results = [r if r.iteration in keep else copy.copy(r) for r in self.results]
        for r in out.results:
            if r.iteration not in keep:
                r.oof = None
        return out


class Task:
    """One kind of problem. Subclasses fill in each step; none of them logs or keeps time."""

    name = "task"
    pipeline_prefix = "AutoFeaturizer "
    capabilities: frozenset[str] = frozenset()  # run methods beyond the common ones: test, explain, onnx, code
    leaderboard_metrics: tuple[str, ...] = ()  # metrics shown as leaderboard columns beside the primary one

    def check(self, spark, config: AutoMLConfig) -> Any:
        """Schema-level checks, cheap and before anything is computed; returns what prepare() reads."""
        raise NotImplementedError

    def prepare(self, spark, config: AutoMLConfig, loaded: Any, say: Say) -> Problem:
        raise NotImplementedError

    def refit_cost(self, problem: Problem, result: TrialResult) -> float:
        """Seconds to refit one trial's model on all rows."""
        raise NotImplementedError

    def final_footprint(self, problem: Problem, result: TrialResult) -> tuple[float, float]:
        """(bytes, objects) of one trial's model as the final model logs it: what logging costs."""
        return refit_footprint(result.model_bytes, result.model_objects, problem.n_splits)

    def likely_members(self, problem: Problem, results: list[TrialResult], config: AutoMLConfig) -> tuple[int, ...]:
        """The trials the ensembles would refit if the search ended now; () = unknown (the finish reserve
        then prices the best few)."""
        return ()

    def ensembles(self, problem: Problem, results: list[TrialResult], config: AutoMLConfig, say: Say,
                  time_left: float | None) -> list[TrialResult]:
        raise NotImplementedError

    def fit_final(self, problem: Problem, result: TrialResult, results: list[TrialResult], config: AutoMLConfig,
                  cache: dict[int, Any], spark=None, say: Say | None = None, time_left: float | None = None) -> Any:
        """The chosen model (or ensemble) refit on every row; `cache` holds member fits by iteration;
        `say` reports progress of a long refit; time_left: seconds the refit and model logging may take
        (None: no budget), which a task may spend where it pays."""
        raise NotImplementedError

    def model_payload(self, problem: Problem, model: Any) -> tuple[str, Any, pd.DataFrame, Any]:
        """(flavor, model object to log, input example, signature) for tracking."""
        raise NotImplementedError

    def record_info(self, problem: Problem, config: AutoMLConfig) -> dict[str, Any]:
        """The task's part of the RunRecord."""
        raise NotImplementedError

    def describe_data(self, info: dict) -> list[str]:
        """Lines print_model shows about the data the model reads."""
        return []

    def validation_charts(self, config: AutoMLConfig, info: dict, result: TrialResult) -> dict[str, bytes]:
        """PNG charts of one child's validation predictions, by file name."""
        raise NotImplementedError

    def finish_steps(self, config: AutoMLConfig, info: dict) -> list[tuple[str, str, bool, bool]]:
        """(artifact, run method, wanted, asked-for) made after the model is logged, in order. An
        artifact the user asked for is always made; the others stop at the budget's overrun."""
        return []
