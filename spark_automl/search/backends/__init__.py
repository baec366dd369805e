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


def choose_backend(requested: str, n_rows: int, n_features: int, is_local_master: bool) -> str:
    """'auto': threads on the driver for small data or a local master, pandas-UDF tasks otherwise."""
    if requested != "auto":
        return requested
    if is_local_master or n_rows * max(n_features, 1) <= LOCAL_MAX_CELLS:
        return LocalBackend.name
    return PandasUDFBackend.name


__all__ = ["BACKENDS", "Backend", "TrialContext", "choose_backend"]
