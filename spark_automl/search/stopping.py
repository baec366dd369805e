"""When the search ends: timeout, iterations, exit score, or Azure's early-stopping rule."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

from ..budget import cost_cap
from ..metrics import metric_spec
from .trial import OK, TrialResult

EARLY_STOP_MIN_ITERATIONS = 20
EARLY_STOP_PATIENCE = 10
CANCELED_REASON = "canceled by the user (run.cancel())"


@dataclass
class Stopper:
    primary_metric: str
    max_iterations: int
    timeout: float | None = None
    exit_score: float | None = None
    early_stopping: bool = True
    start: float = field(default_factory=time.time)
    completed: int = 0
    best_loss: float = math.inf
    since_improvement: int = 0
    reason: str | None = None
    cancelled: bool = False
    reserve: float = 0.0  # seconds kept at the end of the budget for refit + model logging
    # the reserve from the successful trials so far: it follows the likely members as they change (a cheap
    # trial that displaces a slow one from the best few gives the search the seconds back)
    reserve_for: Callable[[TrialResult], float] | None = None
    job_tag: str | None = None  # Spark jobs of this run's trials carry it, so cancel() stops only them
    cancelled_iterations: set = field(default_factory=set)  # run.cancel_iteration(): not waited for, not used
    spark: object = None
    durations: list = field(default_factory=list)  # successful trials' seconds: the cost model's evidence

    def cancel(self) -> None:
        """Stop the search from any thread: no new trial starts, running Spark trials are cancelled."""
        self.cancelled = True
        if self.spark is not None and self.job_tag:
            try:
                self.spark.sparkContext.cancelJobsWithTag(self.job_tag)
            except Exception:  # noqa: BLE001 - the session may be stopping; the flag still ends the search
                pass

    def tag_spark_jobs(self, spark) -> None:
        """Called in the thread that launches a trial's Spark jobs (job tags are per thread)."""
        if self.job_tag and spark is not None:
            spark.sparkContext.addJobTag(self.job_tag)

    @property
    def deadline(self) -> float | None:
        return None if self.timeout is None else self.start + self.timeout - self.reserve

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.time(), 0.0)

    def slots_left(self) -> int:
        return max(self.max_iterations - self.completed, 0)

    def trial_cap(self) -> float | None:
        """The cost model's per-trial cap (budget.cost_cap); None before enough trials or with no budget."""
        return None if self.timeout is None else cost_cap(self.durations)

    def observe(self, result: TrialResult) -> None:
        self.completed += 1
        if result.status == OK and result.duration > 0:
            self.durations.append(result.duration)
        if result.status == OK and self.reserve_for is not None:
            self.reserve = self.reserve_for(result)
        if result.status == OK and result.loss < self.best_loss:
            self.best_loss, self.since_improvement = result.loss, 0
        else:
            self.since_improvement += 1

    def should_stop(self) -> str | None:
        if self.reason:
            return self.reason
        greater = metric_spec(self.primary_metric).greater_is_better
        best_score = -self.best_loss if greater else self.best_loss
        if self.cancelled:
            self.reason = CANCELED_REASON
        elif self.completed >= self.max_iterations:
            self.reason = f"iterations reached ({self.max_iterations})"
        elif self.deadline is not None and time.time() >= self.deadline:
            self.reason = f"experiment timeout reached ({self.timeout / 60:.3g} min)"
        elif self.exit_score is not None and math.isfinite(self.best_loss) and (
            best_score >= self.exit_score if greater else best_score <= self.exit_score
        ):
            self.reason = f"experiment_exit_score {self.exit_score} reached ({best_score:.6g})"
        elif (self.early_stopping and self.completed >= EARLY_STOP_MIN_ITERATIONS
              and self.since_improvement >= EARLY_STOP_PATIENCE):
            self.reason = f"early stopping: no improvement in the last {EARLY_STOP_PATIENCE} iterations"
        return self.reason


# What a search that ends before its deadline leaves unused, and the setting that would spend it.
EARLY_END_ADVICE = (
    ("experiment_exit_score", "the run ends early, as experiment_exit_score asks"),
    ("early stopping", "Azure's early-stopping rule ended it; set enable_early_stopping=False to search on"),
    ("iterations reached", "raise iterations to search on"),
    ("search space exhausted", "every candidate of the allowed models was tried; allow more models to search on"),
)
EARLY_END_MIN_FRACTION = 0.05  # of the budget: less than this left is not worth a note


def early_end_note(reason: str, seconds_left: float, timeout: float | None) -> str | None:
    """One line for a search that stopped with budget left: how much, why, and what would use it.
    The ensembles and the refit that follow already run inside the reserve they were given."""
    if timeout is None or seconds_left < EARLY_END_MIN_FRACTION * timeout:
        return None
    advice = next((text for prefix, text in EARLY_END_ADVICE if reason.startswith(prefix)), None)
    if advice is None:
        return None
    return f"The search ended {seconds_left:.0f}s before its deadline ({reason}): {advice}"
