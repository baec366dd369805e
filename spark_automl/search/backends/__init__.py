"""Backends evaluate candidates; one module per way of fanning out.

BACKENDS is the registry: name -> class. `choose_backend` resolves backend='auto'.
"""

from __future__ import annotations

from .base import Backend, TrialContext
from .local import LocalBackend
from .pandas_udf import PandasUDFBackend
from .spark_trials import SparkTrialsBackend

BACKENDS: dict[str, type[Backend]] = {
    LocalBackend.name: LocalBackend,
    PandasUDFBackend.name: PandasUDFBackend,
    SparkTrialsBackend.name: SparkTrialsBackend,
}

LOCAL_MAX_CELLS = 5_000_000  # rows x features below which driver threads beat Spark tasks


def choose_backend(requested: str, n_rows: int, n_features: int, master: str | None) -> tuple[str, str]:
    """(backend, why). 'auto': Spark tasks whenever the session has executors of its own (any
    master but local[N]); on a local master, driver threads for small data (no Spark job per
    batch) and Spark tasks beyond LOCAL_MAX_CELLS."""
    from ...spark_utils import is_local_master

    if requested != "auto":
        return requested, "backend={!r} was asked for".format(requested)
    if master is None:
        return LocalBackend.name, "no Spark session"
    if not is_local_master(master):
        return PandasUDFBackend.name, f"the session has executors (master {master})"
    cells = n_rows * max(n_features, 1)
    if cells <= LOCAL_MAX_CELLS:
        return LocalBackend.name, f"local master and small data ({cells:,} cells <= {LOCAL_MAX_CELLS:,})"
    return PandasUDFBackend.name, f"local master but large data ({cells:,} cells > {LOCAL_MAX_CELLS:,})"


__all__ = ["BACKENDS", "Backend", "TrialContext", "choose_backend"]
