"""What every backend shares: the trial context and the ask/tell loop."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
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

    def timeout_for(self, stopper: Stopper) -> tuple[float | None, str]:
        return trial_limit(self.trial_timeout, stopper.deadline)


def trial_limit(trial_timeout: float | None, deadline: float | None) -> tuple[float | None, str]:
    """A trial may not outlive the experiment: the smaller of iteration_timeout_minutes and the
    time left before the deadline. Returns (seconds, which limit) so the error names it.
    Pure, so Spark tasks apply the same rule as the driver."""
    caps = []
    if trial_timeout is not None:
        caps.append((trial_timeout, "iteration_timeout_minutes"))
    if deadline is not None:
        left = max(deadline - time.time(), 0.0) + GRACE_SECONDS
        caps.append((left, "experiment_timeout_minutes (the experiment's remaining budget)"))
    return min(caps) if caps else (None, "")


class Backend:
    name = "base"

    def __init__(self, spark=None, trials_per_task: int | None = None):
        self.spark = spark
        self.trials_per_task = trials_per_task

    def run(self, sweeper: Sweeper, data: SearchData, ctx: TrialContext, stopper: Stopper, on_results: OnResults) -> None:
        """Default: batch ask/tell. Backends override evaluate_batch (or run, for fmin-driven ones).

        Pipelined: as soon as a batch returns, TPE learns from it and the next batch is
        launched; MLflow logging and progress of the finished batch then overlap with it,
        so the executors never wait for the driver's bookkeeping.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="automl-batch") as pool:
            pending = self._launch(pool, sweeper, data, ctx, stopper)
            while pending is not None:
                results = pending.result()
                for r in results:
                    sweeper.tell(r)
                    stopper.observe(r)
                pending = self._launch(pool, sweeper, data, ctx, stopper)
                on_results(results)

    def _launch(self, pool, sweeper, data, ctx, stopper) -> Future | None:
        n = min(self.batch_size(ctx), stopper.slots_left())
        if stopper.should_stop() or n <= 0:
            return None
        return pool.submit(self.evaluate_batch, sweeper.ask(n), data, ctx, stopper)

    def batch_size(self, ctx: TrialContext) -> int:
        return ctx.concurrency

    def evaluate_batch(self, candidates, data, ctx, stopper) -> list[TrialResult]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (broadcasts)."""
