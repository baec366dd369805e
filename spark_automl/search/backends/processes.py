"""Trials in worker processes that can be killed: the local backend's isolation.

A fit running in a driver thread cannot be stopped: a timed-out or cancelled trial kept burning CPU
until it finished, starving the next ones. Here each concurrent slot is a worker process, forked from
a forkserver (started once per Python process, with the learners preloaded, so a fork costs
milliseconds and never inherits the driver's OpenMP threads or JVM). The evaluator (its data, metrics
and any model the user registered at runtime: Evaluator.model_specs) is sent once per worker with cloudpickle; candidates then
go one at a time. The driver enforces the time limit: a trial past it is killed with its process, as is
a cancelled one, and a new worker takes the slot. A trial that exhausts its memory cap (mem_in_mb,
enforced with RLIMIT_AS above the worker's idle footprint) or kills its process is recorded as failed.

SPARK_AUTOML_TRIAL_PROCESSES=0 goes back to threads (platforms without forkserver do so by themselves).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from typing import Any

from ..trial import FAILED, TIMED_OUT, TrialResult

ENV = "SPARK_AUTOML_TRIAL_PROCESSES"
PRELOAD = ["spark_automl.search.trial", "spark_automl.models", "sklearn.ensemble", "sklearn.linear_model"]
KILL_GRACE_SECONDS = 2.0  # past the time limit, the worker's own (between-folds) stop gets this long
_START_LOCK = threading.Lock()


def processes_enabled() -> bool:
    return os.environ.get(ENV, "1") != "0" and "forkserver" in multiprocessing.get_all_start_methods()


def _context():
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def warm_up() -> None:
    """Start the forkserver (imports included) ahead of the first trial; safe to call from a thread."""
    if not processes_enabled():
        return
    from multiprocessing import forkserver

    with _START_LOCK:
        _context()
        forkserver.ensure_running()


def _vm_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _serve(conn, payload: bytes, mem_in_mb: int | None) -> None:
    """The worker: load the evaluator once, cap the memory, then evaluate what the driver sends."""
    import cloudpickle

    evaluator = cloudpickle.loads(payload)  # with the models and metrics the user registered at runtime
    if mem_in_mb:
        import resource

        limit = _vm_bytes() + int(mem_in_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from joblib import parallel_config

    # joblib's default (loky) refuses to start workers from a daemon process and cuts n_jobs=-1 to one
    # core ("Loky-backed parallel loops cannot be called in a multiprocessing"): a forest given every core
    # (max_cores_per_iteration=-1) fitted on one. Threads, as scikit-learn's forests prefer anyway, keep them.
    with parallel_config(backend="threading"):
        _evaluate_each(conn, evaluator, mem_in_mb)


def _evaluate_each(conn, evaluator, mem_in_mb: int | None) -> None:
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        candidate, timeout, reason = message
        try:
            result = evaluator(candidate, timeout, reason)
        except MemoryError:
            result = evaluator.failed(candidate, FAILED, f"MemoryError: the trial exceeded mem_in_mb={mem_in_mb}")
        result.worker = f"driver process (pid {os.getpid()})"
        conn.send(result)


class _without_main:
    """While a worker starts: the preparation data multiprocessing sends it leaves out the parent's
    __main__. A worker runs only library code, and re-running a user's script there (one without an
    `if __name__ == "__main__":` guard, a notebook run as a file) would start the whole experiment again
    inside every worker."""

    def __enter__(self):
        from multiprocessing import spawn

        self.real = real = spawn.get_preparation_data

        def without_main(name):
            data = real(name)
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
            return data

        spawn.get_preparation_data = without_main
        return self

    def __exit__(self, *exc) -> None:
        from multiprocessing import spawn

        spawn.get_preparation_data = self.real


class TrialProcess:
    """One slot: a worker process and the trial it is running."""

    def __init__(self, payload: bytes, mem_in_mb: int | None):
        ctx = _context()
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, payload, mem_in_mb), daemon=True,
                                   name="spark-automl-trial")
        with _START_LOCK, _without_main():
            self.process.start()
        child.close()
        self.candidate: Any = None
        self.deadline: float | None = None
        self.started = 0.0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def start(self, candidate, timeout: float | None, reason: str) -> None:
        self.candidate, self.reason, self.timeout = candidate, reason, timeout
        self.started = time.time()
        self.deadline = None if timeout is None else self.started + timeout + KILL_GRACE_SECONDS
        self.conn.send((candidate, timeout, reason))

    def poll(self, evaluator) -> TrialResult | None:
        """The finished trial's result, a failure when the process died, or None while it runs."""
        try:
            if self.conn.poll():
                return self._done(self.conn.recv())
        except (EOFError, OSError):
            pass
        if not self.process.is_alive():
            code = self.process.exitcode
            why = "killed (out of memory, or by a signal)" if code is not None and code < 0 else f"exit code {code}"
            return self._done(evaluator.failed(self.candidate, FAILED,
                                               f"WorkerDied: the trial's process ended without a result ({why})"))
        if self.deadline is not None and time.time() > self.deadline:
            self.kill()
            return self._done(evaluator.failed(self.candidate, TIMED_OUT, f"TrialTimeoutError: trial stopped after "
                                                                          f"{self.timeout:.1f} s: {self.reason}"))
        return None

    def _done(self, result: TrialResult) -> TrialResult:
        self.candidate = None
        if not result.duration:
            result.duration = time.time() - self.started
        return result

    @property
    def busy(self) -> bool:
        return self.candidate is not None

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        """Idle: ask it to exit; busy or stuck: kill it."""
        if not self.busy and self.process.is_alive():
            try:
                self.conn.send(None)
                self.process.join(timeout=2)
            except (OSError, BrokenPipeError):
                pass
        self.kill()
