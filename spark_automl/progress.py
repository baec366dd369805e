"""Live console output for show_output=True: Azure's iteration table, plus stage messages."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .metrics import metric_spec


class Progress:
    def __init__(self, primary_metric: str, enabled: bool = True, stream: TextIO | None = None,
                 pipeline_prefix: str = "AutoFeaturizer ", mirror=None):
        self.metric = primary_metric
        self.mirror = mirror  # debug_log's writer: every line, whether or not output is shown
        self.prefix = pipeline_prefix
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.best: float | None = None
        self.header_done = False
        self.start = time.time()

    def _print(self, text: str) -> None:
        if self.mirror is not None:
            self.mirror(text)
        if self.enabled:
            print(text, file=self.stream, flush=True)

    def stage(self, message: str) -> None:
        self._print(f"[{time.time() - self.start:7.1f}s] {message}")

    def trials(self, results) -> None:
        greater = metric_spec(self.metric).greater_is_better
        if not self.header_done:
            self._print("*" * 96)
            self._print(f"{'ITER':>5}  {'PIPELINE':<42}{'DURATION':>10}  {'METRIC':>10}  {'BEST':>10}  STATUS")
            self.header_done = True
        for r in sorted(results, key=lambda r: r.iteration):
            if r.status == "ok" and (self.best is None or (r.score > self.best if greater else r.score < self.best)):
                self.best = r.score
            score = f"{r.score:10.4f}" if r.status == "ok" else f"{'nan':>10}"
            best = f"{self.best:10.4f}" if self.best is not None else f"{'nan':>10}"
            pipeline = (r.model if r.origin == "ensemble" else f"{self.prefix}{r.model}")[:42]
            self._print(f"{r.iteration:>5}  {pipeline:<42}{r.duration:>9.1f}s  {score}  {best}  {r.status}")
