"""Candidates as rows of a Spark DataFrame, evaluated by mapInPandas tasks.

The search data is broadcast once per experiment; each Spark task evaluates several
candidates in a row, so the ~1 s cost of a Spark job is shared by
`max_concurrent_iterations x trials_per_task` trials instead of paid by each.
"""

from __future__ import annotations

import pickle
import time
from typing import Iterator

import pandas as pd

from ...budget import trial_limit
from ..trial import CANCELED, FAILED, TIMED_OUT, TrialResult
from .base import Backend, one_job_each, spark_task_label, task_failure

SCHEMA = "iteration long, payload binary"
DEFAULT_TRIALS_PER_TASK = 4


def _task_fn(broadcast, trial_timeout, deadline, cap=None):
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        evaluator = broadcast.value
        worker = spark_task_label()
        for batch in batches:
            out = []
            for iteration, payload in zip(batch["iteration"], batch["payload"]):
                cand = pickle.loads(payload)
                if deadline is not None and time.time() >= deadline:
                    result = evaluator.failed(cand, TIMED_OUT, "experiment timeout reached before start")
                else:
                    timeout, reason = trial_limit(trial_timeout, deadline, cap=cap)
                    result = evaluator(cand, timeout, reason)
                result.worker = worker
                out.append((int(iteration), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)))
            yield pd.DataFrame(out, columns=["iteration", "payload"])

    return run


class PandasUDFBackend(Backend):
    name = "pandas_udf"
    needs_spark = True

    def __init__(self, spark=None, trials_per_task: int | None = None):
        super().__init__(spark, trials_per_task)
        self._broadcast = None
        self._data_id = None
        self._seconds: dict[str, list[float]] = {}  # observed trial durations per model

    def batch_size(self, ctx) -> int:
        return ctx.concurrency * (self.trials_per_task or DEFAULT_TRIALS_PER_TASK)

    def _broadcast_data(self, evaluator):
        if self._data_id != id(evaluator):
            self.close()
            self._broadcast = self.spark.sparkContext.broadcast(evaluator)
            self._data_id = id(evaluator)
        return self._broadcast

    def evaluate_batch(self, candidates, evaluator, ctx, stopper) -> list[TrialResult]:
        try:
            ordered = self._job(candidates, evaluator, ctx, stopper)
        except Exception as err:  # a task crashed (its Python worker died, an executor was lost): keep going
            if stopper.cancelled:
                return [evaluator.failed(c, CANCELED, "canceled by the user") for c in candidates]
            if len(candidates) == 1:
                return [evaluator.failed(candidates[0], FAILED, task_failure(err))]
            return one_job_each(candidates, lambda c: self.evaluate_batch([c], evaluator, ctx, stopper)[0],
                                evaluator, ctx.concurrency)
        for r in ordered:
            self._seconds.setdefault(r.model, []).append(r.duration)
        return ordered

    def _job(self, candidates, evaluator, ctx, stopper) -> list[TrialResult]:
        bc = self._broadcast_data(evaluator)
        n_tasks = max(1, min(ctx.concurrency, len(candidates)))
        keyed = [(task, (c.iteration, bytearray(pickle.dumps(c))))
                 for c, task in zip(candidates, self._balance(candidates, n_tasks))]
        # Exact placement: partition k holds exactly the candidates assigned to task k.
        rdd = self.spark.sparkContext.parallelize(keyed, n_tasks).partitionBy(n_tasks, lambda k: k).values()
        frame = self.spark.createDataFrame(rdd, SCHEMA)
        fn = _task_fn(bc, ctx.trial_timeout, stopper.deadline, stopper.trial_cap())
        stopper.tag_spark_jobs(self.spark)
        collected = frame.mapInPandas(fn, SCHEMA).collect()
        results = {r["iteration"]: pickle.loads(r["payload"]) for r in collected}
        return [results[c.iteration] for c in candidates]

    def _balance(self, candidates, n_tasks: int) -> list[int]:
        """Longest-processing-time-first: the batch ends with its slowest task, so spread the
        expected cost (mean past duration of each model) evenly over the tasks."""
        known = [sum(v) / len(v) for v in self._seconds.values()]
        default = sum(known) / len(known) if known else 1.0
        cost = [(sum(self._seconds[c.model]) / len(self._seconds[c.model])) if c.model in self._seconds else default
                for c in candidates]
        load, assignment = [0.0] * n_tasks, [0] * len(candidates)
        for i in sorted(range(len(candidates)), key=lambda i: -cost[i]):
            task = min(range(n_tasks), key=lambda t: load[t])
            assignment[i], load[task] = task, load[task] + cost[i]
        return assignment

    def close(self) -> None:
        if self._broadcast is not None:
            try:
                self._broadcast.unpersist()
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass
            self._broadcast, self._data_id = None, None
