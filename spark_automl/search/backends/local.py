"""Threads on the driver: no Spark overhead at all, for small data and tests.

Streaming rather than batched: as soon as one trial finishes, its result reaches TPE
and the next candidate starts, so a slow trial never idles the other workers.
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ...budget import STRAGGLER_PATIENCE_SECONDS, TRIAL_GRACE_SECONDS
from ..trial import CANCELED, CANCELED_MESSAGE
from .base import Backend

WORKER = "driver"
CANCEL_POLL_SECONDS = 0.5


class LocalBackend(Backend):
    name = "local"

    def run(self, sweeper, evaluator, ctx, stopper, on_results) -> None:
        # No `with`: leaving the block would join a fit that outlived its timeout.
        pool = ThreadPoolExecutor(max_workers=ctx.concurrency, thread_name_prefix="automl-trial")
        try:
            running = {}

            def submit_more():
                while len(running) < ctx.concurrency and not stopper.should_stop() \
                        and stopper.slots_left() - len(running) > 0:
                    asked = sweeper.ask(1)
                    if not asked:
                        return
                    timeout, reason = ctx.timeout_for(stopper)
                    if asked[0].iteration in stopper.cancelled_iterations:  # canceled before it started
                        running[pool.submit(evaluator.failed, asked[0], CANCELED, CANCELED_MESSAGE)] = asked[0]
                        continue
                    running[pool.submit(evaluator, asked[0], timeout, reason)] = asked[0]

            submit_more()
            while running:
                remaining = stopper.remaining()
                patience = None if remaining is None else remaining + TRIAL_GRACE_SECONDS + STRAGGLER_PATIENCE_SECONDS
                waited = 0.0
                while True:  # in short steps, so run.cancel() from another thread is seen within a second
                    step = CANCEL_POLL_SECONDS if patience is None else min(CANCEL_POLL_SECONDS, patience - waited)
                    done, _ = wait(list(running), timeout=max(step, 0.0), return_when=FIRST_COMPLETED)
                    waited += step
                    dropped = [f for f, c in running.items() if c.iteration in stopper.cancelled_iterations]
                    if done or dropped or stopper.cancelled or (patience is not None and waited >= patience):
                        break
                if stopper.cancelled and not done:  # a driver thread cannot be killed: it ends in the background
                    stopper.should_stop()
                    break
                if not done and not dropped:  # experiment deadline passed: stop waiting for stragglers
                    stopper.should_stop()
                    break
                results = []
                for future in {*done, *dropped}:
                    candidate = running.pop(future)
                    result = (evaluator.failed(candidate, CANCELED, CANCELED_MESSAGE)
                              if candidate.iteration in stopper.cancelled_iterations else future.result())
                    result.worker = WORKER
                    sweeper.tell(result)
                    stopper.observe(result)
                    results.append(result)
                on_results(results)
                submit_more()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
