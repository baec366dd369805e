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

from ...budget import trial_limit
from ..sweeper import insert_pending
from ..trial import OK, Candidate
from .base import Backend, one_job_each, spark_task_label

log = logging.getLogger(__name__)


def _in_task(evaluator, candidate, trial_timeout, deadline=None, cap=None):
    """One trial in a Spark task, under the same limit as the other backends: iteration_timeout_minutes,
    the cost model's cap and the search deadline, whichever is nearest."""
    timeout, reason = trial_limit(trial_timeout, deadline, cap=cap)
    result = evaluator(candidate, timeout, reason)
    result.worker = spark_task_label()
    return result


def _fixed_task(broadcast, trial_timeout, deadline):
    def run(candidate):
        return pickle.dumps(_in_task(broadcast.value, candidate, trial_timeout, deadline))

    return run


class SparkTrialsBackend(Backend):
    name = "spark_trials"
    needs_spark = True

    def run(self, sweeper, evaluator, ctx, stopper, on_results) -> None:
        from hyperopt import SparkTrials

        broadcast = self.spark.sparkContext.broadcast(evaluator)
        trial_timeout = ctx.trial_timeout
        self._run_fixed(sweeper, broadcast, ctx, stopper, on_results)
        if sweeper.space is None or stopper.should_stop():
            broadcast.unpersist()
            return

        # hyperopt pickles the objective into each trial's Spark job: the cap it carries is the one the
        # driver held when that trial started (updated by the hook as trials finish)
        limits = {"cap": stopper.trial_cap(), "deadline": stopper.deadline}

        def objective(point):
            cand = Candidate(-1, point["model"], point["params"], "hyperopt")
            result = _in_task(broadcast.value, cand, trial_timeout, limits["deadline"], limits["cap"])
            status = STATUS_OK if result.status == OK else STATUS_FAIL
            out = {"status": status, "trial_result": pickle.dumps(result)}
            if status == STATUS_OK:
                out["loss"] = result.loss
            return out

        trials = SparkTrials(parallelism=ctx.concurrency, timeout=stopper.remaining() or None,
                             spark_session=self.spark)
        # iterations is a hard cap: queue no more of the portfolio than the slots left, and drop a trial
        # that was already in flight when the last slot filled (SparkTrials runs `parallelism` at once)
        portfolio = [sweeper.encode(m, p) for m, p in sweeper.queue][:stopper.slots_left()]
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
                if payload is None or stopper.slots_left() <= 0:
                    continue
                result = pickle.loads(payload)
                result.iteration = sweeper.next_iteration
                result.origin = origins.get(doc["tid"], "tpe")
                sweeper.next_iteration += 1
                stopper.observe(result)
                fresh.append(result)
            if fresh:
                on_results(fresh)
                limits["cap"] = stopper.trial_cap()
            return bool(stopper.should_stop()), args

        max_evals = len(portfolio) + max(stopper.slots_left() - len(portfolio), 0)
        try:
            fmin(objective, sweeper.space, algo=sweeper.algo, max_evals=max_evals, trials=trials,
                 rstate=np.random.default_rng(sweeper.seed), early_stop_fn=hook, show_progressbar=False)
        finally:
            hook(trials)  # results that arrived after the last check
            sweeper.queue.clear()
            broadcast.unpersist()

    def _run_fixed(self, sweeper, broadcast, ctx, stopper, on_results) -> None:
        """The models without hyperparameters (outside hyperopt's space) in one Spark job,
        `max_concurrent_iterations` tasks wide."""
        fixed = sweeper.fixed()[:stopper.slots_left()]
        if not fixed:
            return
        task = _fixed_task(broadcast, ctx.trial_timeout, stopper.deadline)
        sc = self.spark.sparkContext
        try:
            results = [pickle.loads(p) for p in sc.parallelize(fixed, max(1, min(ctx.concurrency, len(fixed))))
                       .map(task).collect()]
        except Exception:  # noqa: BLE001 - one crashed task aborts the job
            results = one_job_each(fixed, lambda c: pickle.loads(sc.parallelize([c], 1).map(task).collect()[0]),
                                   broadcast.value, ctx.concurrency)
        for r in results:
            stopper.observe(r)
        on_results(results)
