"""What every backend shares: the trial context and the ask/tell loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...data.prepare import SearchData
from ..stopping import Stopper
from ..sweeper import Sweeper
from ..trial import TrialResult

OnResults = Callable[[list[TrialResult]], None]
GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class TrialContext:
    primary_metric: str
    seed: int
    n_jobs: int
    concurrency: int
    trial_timeout: float | None

    def timeout_for(self, stopper: Stopper) -> float | None:
        """A trial may not outlive the experiment: cap it at the remaining budget."""
        remaining = stopper.remaining()
        caps = [t for t in (self.trial_timeout, None if remaining is None else remaining + GRACE_SECONDS) if t is not None]
        return min(caps) if caps else None


class Backend:
    name = "base"

    def __init__(self, spark=None, trials_per_task: int | None = None):
        self.spark = spark
        self.trials_per_task = trials_per_task

    def run(self, sweeper: Sweeper, data: SearchData, ctx: TrialContext, stopper: Stopper, on_results: OnResults) -> None:
        """Default: batch ask/tell. Backends override evaluate_batch (or run, for fmin-driven ones)."""
        while not stopper.should_stop():
            n = min(self.batch_size(ctx), stopper.slots_left())
            if n <= 0:
                break
            results = self.evaluate_batch(sweeper.ask(n), data, ctx, stopper)
            for r in results:
                sweeper.tell(r)
                stopper.observe(r)
            on_results(results)

    def batch_size(self, ctx: TrialContext) -> int:
        return ctx.concurrency

    def evaluate_batch(self, candidates, data, ctx, stopper) -> list[TrialResult]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (broadcasts)."""
