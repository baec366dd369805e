"""Azure's debug_log: one file per run with the progress lines and the library's log records.

Written whether or not show_output is on, so a scheduled job leaves a readable trace; nothing
goes to the console twice (the file handler sits on the library's logger only for the run).
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from typing import Callable, Iterator

LOGGER = "spark_automl"


@contextmanager
def debug_log(path: str | None) -> Iterator[Callable[[str], None] | None]:
    """Yields a writer for progress lines (None when no debug_log was asked for)."""
    if path is None:
        yield None
        return
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)

    def write(line: str) -> None:
        handler.acquire()
        try:
            handler.stream.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} PROGRESS {line}\n")
            handler.flush()
        finally:
            handler.release()

    try:
        yield write
    finally:
        logger.removeHandler(handler)
        handler.close()
