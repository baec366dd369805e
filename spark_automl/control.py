"""RunControl: what another thread (or notebook cell) holds over a running experiment.

submit(wait=False) runs the experiment in a background thread; the handle it returns reaches
the run through this object: cancel it, and learn its parent run id once it exists.
"""

from __future__ import annotations

import threading
from typing import Any

from .search.stopping import Stopper


class RunControl:
    def __init__(self) -> None:
        self.stopper: Stopper | None = None
        self.parent_run_id: str | None = None
        self.started = threading.Event()  # the parent run exists (or the run ended before it did)
        self.done = threading.Event()
        self.canceled = False
        self.pending_iterations: set[int] = set()  # cancel_iteration() before the search started
        self.result: Any = None  # the finished AutoMLRun
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def attach(self, stopper: Stopper) -> None:
        with self._lock:
            self.stopper = stopper
            stopper.cancelled_iterations.update(self.pending_iterations)
            if self.canceled:
                stopper.cancel()

    def cancel(self) -> None:
        """Stop the search: no new trial starts; finished trials are kept; the best model so far is refit."""
        with self._lock:
            self.canceled = True
            if self.stopper is not None:
                self.stopper.cancel()

    def cancel_iteration(self, iteration: int) -> None:
        with self._lock:
            self.pending_iterations.add(iteration)
            if self.stopper is not None:
                self.stopper.cancelled_iterations.add(iteration)

    def mark_started(self, parent_run_id: str | None) -> None:
        self.parent_run_id = parent_run_id
        self.started.set()

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.started.set()
        self.done.set()
