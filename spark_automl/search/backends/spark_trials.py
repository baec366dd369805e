"""hyperopt SparkTrials: one Spark job per trial, driven by hyperopt's own fmin loop.

The portfolio is injected as pending trial documents before fmin starts (SparkTrials
does not accept points_to_evaluate); early_stop_fn is the hook through which finished
trials reach tracking, progress and the stopping rules on the driver.
"""

from __future__ import annotations

import logging
import pickle

import numpy as np
from hyperopt import STATUS_FAIL, STATUS_OK, fmin

from ..sweeper import insert_pending
from ..trial import OK, Candidate
from .base import Backend

log = logging.getLogger(__name__)


class SparkTrialsBackend(Backend):
    name = "spark_trials"
    needs_spark = True

    def run(self, sweeper, evaluator, ctx, stopper, on_results) -> None:
        from hyperopt import SparkTrials

        broadcast = self.spark.sparkContext.broadcast(evaluator)
        trial_timeout = ctx.trial_timeout

        def objective(point):
            from pyspark import TaskContext

            cand = Candidate(-1, point["model"], point["params"], "hyperopt")
            result = broadcast.value(cand, trial_timeout)
            task = TaskContext.get()
            result.worker = f"spark task {task.stageId()}.{task.partitionId()}" if task else "spark task"
            status = STATUS_OK if result.status == OK else STATUS_FAIL
            out = {"status": status, "trial_result": pickle.dumps(result)}
            if status == STATUS_OK:
                out["loss"] = result.loss
            return out

        trials = SparkTrials(parallelism=ctx.concurrency, timeout=stopper.remaining() or None,
                             spark_session=self.spark)
        portfolio = [sweeper.encode(m, p) for m, p in sweeper.queue]
        origins = {}
        for vals in portfolio:
            origins[insert_pending(trials, vals)] = "portfolio"
        seen: set[int] = set()

        def hook(all_trials, *args):
            fresh = []
            for doc in sorted(all_trials.trials, key=lambda d: d["tid"]):
                if doc["tid"] in seen or doc["result"].get("status") not in (STATUS_OK, STATUS_FAIL):
                    continue
                seen.add(doc["tid"])
                payload = doc["result"].get("trial_result")
                if payload is None:
                    continue
                result = pickle.loads(payload)
                result.iteration = sweeper.next_iteration
                result.origin = origins.get(doc["tid"], "tpe")
                sweeper.next_iteration += 1
                stopper.observe(result)
                fresh.append(result)
            if fresh:
                on_results(fresh)
            return bool(stopper.should_stop()), args

        max_evals = len(portfolio) + max(stopper.slots_left() - len(portfolio), 0)
        try:
            fmin(objective, sweeper.space, algo=sweeper.algo, max_evals=max_evals, trials=trials,
                 rstate=np.random.default_rng(sweeper.seed), early_stop_fn=hook, show_progressbar=False)
        finally:
            hook(trials)  # results that arrived after the last check
            sweeper.queue.clear()
            broadcast.unpersist()
