"""Rolling-origin cross-validation: n origins, cv_step_size apart, each forecasting
forecast_horizon steps after it, placed from the end of every series (as Azure does)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .settings import SERIES_ID, TARGET

DEFAULT_FOLDS = 3
MAX_AUTO_FOLDS = 6
VALIDATION_POINTS = 72  # 'auto' folds: at least this many validated points when the series allow


@dataclass(frozen=True)
class Origin:
    """One fold: per series, the first `cut` rows are history and the next `horizon` rows are scored."""

    index: int
    steps_from_end: int  # rows after the cut in each series (horizon + later origins' steps)
    horizon: int


def resolve_step(cv_step_size, horizon: int) -> int:
    return horizon if cv_step_size in (None, "auto") else int(cv_step_size)


def resolve_folds(n_cross_validations, shortest: int, horizon: int, step: int, n_series: int = 1) -> int:
    """n_cross_validations as given; 'auto'/None: 3 origins, more for a small panel (up to MAX_AUTO_FOLDS) so
    that at least VALIDATION_POINTS points are validated (one series with a 12-step horizon gets 6), and
    never more than `shortest` (the caller passes the median series length: shorter series join fewer
    origins, see split) allows with at least one horizon of history before the first origin.
    Few validation points let selection and ensemble weights fit noise; origins of a small panel are cheap."""
    if isinstance(n_cross_validations, int):
        return n_cross_validations
    room = (shortest - 2 * horizon) // step + 1
    wanted = max(DEFAULT_FOLDS, min(MAX_AUTO_FOLDS, math.ceil(VALIDATION_POINTS / max(1, n_series * horizon))))
    return int(max(1, min(wanted, room)))


def origins(n_folds: int, horizon: int, step: int) -> list[Origin]:
    """Oldest origin first; the last one scores the final `horizon` rows of every series."""
    return [Origin(k, horizon + (n_folds - 1 - k) * step, horizon) for k in range(n_folds)]


def split(frame: pd.DataFrame, origin: Origin) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, scored rows) of the series this origin can validate: those with at least one horizon of
    history before it. The number of origins thus adapts per series: a short series joins only the later
    origins (every searched series reaches the last one). frame is sorted by series and time."""
    by_series = frame.groupby(SERIES_ID, sort=False)
    position = by_series.cumcount(ascending=False).to_numpy()  # 0 = last row
    length = by_series[SERIES_ID].transform("size").to_numpy()
    joins = length - origin.steps_from_end >= origin.horizon
    history = joins & (position >= origin.steps_from_end)
    scored = joins & (position < origin.steps_from_end) & (position >= origin.steps_from_end - origin.horizon)
    if not history.any():
        raise DataError(f"Cross-validation origin {origin.index} leaves no series a horizon of history; use fewer "
                        "n_cross_validations or a smaller forecast_horizon / cv_step_size.")
    return frame.loc[history].reset_index(drop=True), frame.loc[scored].reset_index(drop=True)


def scorable(rows: pd.DataFrame) -> np.ndarray:
    """Rows that count in the metrics: an observed target, not padding."""
    mask = rows[TARGET].notna().to_numpy()
    if "_padded" in rows.columns:
        mask &= ~rows["_padded"].to_numpy(dtype=bool)
    return mask
