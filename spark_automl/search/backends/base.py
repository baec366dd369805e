"""What every backend shares: the trial context and the ask/tell loop."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from ...budget import trial_limit
from ..stopping import Stopper
from ..sweeper import Sweeper
from ..trial import CANCELED, CANCELED_MESSAGE, FAILED, Evaluator, TrialResult

OnResults = Callable[[list[TrialResult]], None]


def task_failure(err: Exception) -> str:
    """A Spark task that died with its trial, in one line (Spark's message is a page of JVM stack)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    telling = ("exited unexpectedly", "crashed", "lost executor", "killed", "memory", "worker")
    first = next((line for line in lines if any(t in line.lower() for t in telling)), lines[0] if lines else
                 type(err).__name__)
    return ("WorkerDied: the trial's Spark task failed (its Python worker died, or its executor was lost): "
            + first[:300])


def one_job_each(candidates: list, run_one: Callable, evaluator: Evaluator, concurrency: int) -> list[TrialResult]:
    """After a crashed task aborted a shared Spark job: every trial again in a job of its own (up to
    `concurrency` at once), so only the trial that kills its worker fails."""
    def one(candidate):
        try:
            return run_one(candidate)
        except Exception as err:  # noqa: BLE001 - this trial's own task died
            return evaluator.failed(candidate, FAILED, task_failure(err))

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="automl-isolate") as pool:
        return list(pool.map(one, candidates))


def spark_task_label() -> str:
    """Where a trial ran, as its child run's `worker` tag: the Spark stage, partition and Python worker."""
    import os

    from pyspark import TaskContext

    task = TaskContext.get()
    return f"spark task {task.stageId()}.{task.partitionId()} (pid {os.getpid()})" if task else "spark task"


@dataclass(frozen=True)
class TrialContext:
    """How trials are scheduled (what the evaluator computes is the evaluator's business)."""

    concurrency: int
    trial_timeout: float | None

    def timeout_for(self, stopper: Stopper) -> tuple[float | None, str]:
        return trial_limit(self.trial_timeout, stopper.deadline, cap=stopper.trial_cap())


class Backend:
    name = "base"
    needs_spark = False

    def __init__(self, spark=None, trials_per_task: int | None = None):
        from ...errors import ConfigError

        if self.needs_spark and spark is None:
            raise ConfigError(f"backend={self.name!r} needs a SparkSession; pass spark= to Experiment or use "
                              "backend='local'.")
        self.spark = spark
        self.trials_per_task = trials_per_task

    def run(self, sweeper: Sweeper, evaluator: Evaluator, ctx: TrialContext, stopper: Stopper,
            on_results: OnResults) -> None:
        """Default: batch ask/tell. Backends override evaluate_batch (or run, for fmin-driven ones).

        Pipelined: as soon as a batch returns, TPE learns from it and the next batch is
        launched; MLflow logging and progress of the finished batch then overlap with it,
        so the executors never wait for the driver's bookkeeping.
        """
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="automl-batch") as pool:
            pending = self._launch(pool, sweeper, evaluator, ctx, stopper)
            while pending is not None:
                results = [evaluator.failed(r, CANCELED, CANCELED_MESSAGE) if r.iteration in stopper.cancelled_iterations
                           else r for r in pending.result()]  # a Spark batch cannot drop one trial: discard it
                for r in results:
                    sweeper.tell(r)
                    stopper.observe(r)
                pending = self._launch(pool, sweeper, evaluator, ctx, stopper)
                on_results(results)

    def _launch(self, pool, sweeper, evaluator, ctx, stopper) -> Future | None:
        n = min(self.batch_size(ctx), stopper.slots_left())
        if stopper.should_stop() or n <= 0:
            return None
        candidates = sweeper.ask(n)
        if not candidates:
            return None
        return pool.submit(self.evaluate_batch, candidates, evaluator, ctx, stopper)

    def batch_size(self, ctx: TrialContext) -> int:
        return ctx.concurrency

    def evaluate_batch(self, candidates, evaluator, ctx, stopper) -> list[TrialResult]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (broadcasts)."""
