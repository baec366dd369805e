"""Trials on the driver machine: no Spark overhead at all, for small data and tests.

Each trial runs in a worker process that is killed when the trial times out or is cancelled
(processes.py); threads remain the fallback (SPARK_AUTOML_TRIAL_PROCESSES=0, no forkserver).
Streaming rather than batched: as soon as one trial finishes, its result reaches TPE and the next
candidate starts, so a slow trial never idles the other workers.
"""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ...budget import STRAGGLER_PATIENCE_SECONDS, TRIAL_GRACE_SECONDS
from ..trial import CANCELED, CANCELED_MESSAGE, TIMED_OUT
from .base import Backend
from .processes import TrialProcess, processes_enabled

WORKER = "driver"
CANCEL_POLL_SECONDS = 0.5
PROCESS_POLL_SECONDS = 0.05


class LocalBackend(Backend):
    name = "local"

    def run(self, sweeper, evaluator, ctx, stopper, on_results) -> None:
        if processes_enabled():
            return self._run_in_processes(sweeper, evaluator, ctx, stopper, on_results)
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

    def _run_in_processes(self, sweeper, evaluator, ctx, stopper, on_results) -> None:
        """One worker process per concurrent slot; a timed-out, cancelled or crashed trial's process is
        killed (it stops using CPU at once) and a fresh one takes the slot."""
        import cloudpickle

        payload = cloudpickle.dumps(evaluator)
        mem = getattr(evaluator, "mem_in_mb", None)
        idle: list[TrialProcess] = []
        busy: list[TrialProcess] = []
        try:
            while True:
                results = []
                while len(busy) < ctx.concurrency and not stopper.should_stop() \
                        and stopper.slots_left() - len(busy) > 0:
                    asked = sweeper.ask(1)
                    if not asked:
                        break
                    if asked[0].iteration in stopper.cancelled_iterations:  # canceled before it started
                        results.append(self._tagged(evaluator.failed(asked[0], CANCELED, CANCELED_MESSAGE), None))
                        continue
                    slot = idle.pop() if idle else TrialProcess(payload, mem)
                    timeout, reason = ctx.timeout_for(stopper)
                    slot.start(asked[0], timeout, reason)
                    busy.append(slot)
                if not busy and not results:
                    return
                time.sleep(0.0 if results else PROCESS_POLL_SECONDS)
                for slot in list(busy):
                    if stopper.cancelled or slot.candidate.iteration in stopper.cancelled_iterations:
                        candidate = slot.candidate
                        slot.kill()
                        busy.remove(slot)
                        results.append(self._tagged(evaluator.failed(candidate, CANCELED, CANCELED_MESSAGE), slot))
                        continue
                    result = slot.poll(evaluator)
                    if result is None:
                        continue
                    busy.remove(slot)
                    if result.status == TIMED_OUT or not slot.process.is_alive():
                        slot.kill()  # a fit that outlived its limit inside the worker dies with it
                    else:
                        idle.append(slot)
                    results.append(self._tagged(result, slot))
                if results:
                    for result in results:
                        sweeper.tell(result)
                        stopper.observe(result)
                    on_results(results)
        finally:
            for slot in [*busy, *idle]:
                slot.stop()

    @staticmethod
    def _tagged(result, slot):
        if not result.worker:
            result.worker = WORKER if slot is None else f"{WORKER} process (pid {slot.pid})"
        return result
