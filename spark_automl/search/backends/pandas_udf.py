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

from ..trial import FAILED, TIMED_OUT, TrialResult, evaluate
from .base import Backend, trial_limit

SCHEMA = "iteration long, payload binary"
DEFAULT_TRIALS_PER_TASK = 4


def _task_fn(broadcast, primary_metric: str, seed: int, n_jobs: int, trial_timeout, deadline):
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        data = broadcast.value
        for batch in batches:
            out = []
            for iteration, payload in zip(batch["iteration"], batch["payload"]):
                cand = pickle.loads(payload)
                if deadline is not None and time.time() >= deadline:
                    result = TrialResult(cand.iteration, cand.model, dict(cand.params), cand.origin, TIMED_OUT,
                                         primary_metric=primary_metric, error="experiment timeout reached before start")
                else:
                    timeout, reason = trial_limit(trial_timeout, deadline)
                    result = evaluate(cand, data, primary_metric, seed, n_jobs, timeout, reason)
                out.append((int(iteration), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)))
            yield pd.DataFrame(out, columns=["iteration", "payload"])

    return run


class PandasUDFBackend(Backend):
    name = "pandas_udf"

    def __init__(self, spark=None, trials_per_task: int | None = None):
        super().__init__(spark, trials_per_task)
        if spark is None:
            raise ValueError("the pandas_udf backend needs a SparkSession")
        self._broadcast = None
        self._data_id = None
        self._seconds: dict[str, list[float]] = {}  # observed trial durations per model

    def batch_size(self, ctx) -> int:
        return ctx.concurrency * (self.trials_per_task or DEFAULT_TRIALS_PER_TASK)

    def _broadcast_data(self, data):
        if self._data_id != id(data):
            self.close()
            self._broadcast = self.spark.sparkContext.broadcast(data)
            self._data_id = id(data)
        return self._broadcast

    def evaluate_batch(self, candidates, data, ctx, stopper) -> list[TrialResult]:
        bc = self._broadcast_data(data)
        n_tasks = max(1, min(ctx.concurrency, len(candidates)))
        keyed = [(task, (c.iteration, bytearray(pickle.dumps(c))))
                 for c, task in zip(candidates, self._balance(candidates, n_tasks))]
        # Exact placement: partition k holds exactly the candidates assigned to task k.
        rdd = self.spark.sparkContext.parallelize(keyed, n_tasks).partitionBy(n_tasks, lambda k: k).values()
        frame = self.spark.createDataFrame(rdd, SCHEMA)
        fn = _task_fn(bc, ctx.primary_metric, ctx.seed, ctx.n_jobs, ctx.trial_timeout, stopper.deadline)
        try:
            collected = frame.mapInPandas(fn, SCHEMA).collect()
        except Exception as err:  # a task crashed (e.g. lost executor): record, keep going
            return [TrialResult(c.iteration, c.model, dict(c.params), c.origin, FAILED,
                                primary_metric=ctx.primary_metric, error=f"Spark task failed: {err}")
                    for c in candidates]
        results = {r["iteration"]: pickle.loads(r["payload"]) for r in collected}
        ordered = [results[c.iteration] for c in candidates]
        for r in ordered:
            self._seconds.setdefault(r.model, []).append(r.duration)
        return ordered

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
