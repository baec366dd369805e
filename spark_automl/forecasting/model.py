"""ForecastingModel: what get_output() returns for task='forecasting' and what MLflow logs.

forecast(X_future) takes the user's own columns (series ids, time, known covariates),
checks them, forecasts every step up to the furthest requested one (recursion needs them
all) and returns the requested rows with prediction intervals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .forecasters import LEVELS
from .store import HistoryStore

REACH_HORIZONS = 20  # forecasts reach at most this many horizons past a series' end
MIN_REACH = 100
_STEP = "_step"
from .settings import SERIES_ID, TIME


@dataclass
class SeriesSchema:
    """How user rows map to the canonical frame, and where each series ends."""

    time_column: str
    id_columns: list[str]
    label: str
    freq: Any
    horizon: int
    integer_time: bool
    covariates: list[str]
    last_time: dict[str, Any]  # unique_id -> last training time
    id_values: dict[str, tuple] = field(default_factory=dict)  # unique_id -> the id columns' own values

    def key(self, frame: pd.DataFrame) -> pd.Series:
        from .data import series_key

        return series_key(frame, self.id_columns)

    def times_after(self, last, steps: int) -> list:
        if self.integer_time:
            return [int(last) + int(self.freq) * k for k in range(1, steps + 1)]
        return list(pd.date_range(start=pd.Timestamp(last), periods=steps + 1, freq=self.freq)[1:])

    @property
    def reach(self) -> int:
        """The furthest step a forecast may ask for (past the horizon, steps are recursive)."""
        return max(REACH_HORIZONS * int(self.horizon), MIN_REACH)

    def steps_after(self, series: pd.Series, times: pd.Series) -> np.ndarray:
        """Steps of freq from each row's series end to its time; -1 when off the grid, at or before
        the end, or past `reach`. One date grid per distinct end time, not one per row."""
        times = times.reset_index(drop=True)
        lasts = series.map(self.last_time).reset_index(drop=True)
        if self.integer_time:
            delta = times.to_numpy(np.int64) - lasts.to_numpy(np.int64)
            step = int(self.freq)
            steps = np.where(delta % step == 0, delta // step, -1)
        else:
            steps = np.full(len(times), -1, dtype=np.int64)
            for last, index in lasts.groupby(lasts, sort=False).groups.items():
                grid = pd.date_range(start=pd.Timestamp(last), periods=self.reach + 1, freq=self.freq)
                wanted = pd.DatetimeIndex(times.loc[index])
                pos = grid.searchsorted(wanted)
                hit = (pos < len(grid)) & (grid[np.minimum(pos, len(grid) - 1)] == wanted)
                steps[np.asarray(index)] = np.where(hit, pos, -1)
        return np.where((steps >= 1) & (steps <= self.reach), steps, -1)


DEFAULT_QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)


class ForecastingModel:
    """members: fitted forecasters (one, or a voting ensemble's), weights summing to 1."""

    def __init__(self, members: Sequence[Any], weights: Sequence[float], names: Sequence[str],
                 schema: SeriesSchema, uses_covariates: bool, store: HistoryStore | None = None,
                 fallback: Any = None, fallback_series: Sequence[str] = ()):
        self.members, self.weights, self.names = list(members), list(weights), list(names)
        self.schema = schema
        self.uses_covariates = uses_covariates
        self.store = store  # large panels: the history is read per file of series, not held by the members
        # series the search left out (too short): forecast by a simple model their length supports
        self.fallback, self.fallback_series = fallback, frozenset(fallback_series)
        if store is not None:
            for forecaster in [*self.members, fallback]:
                if forecaster is not None:
                    forecaster.history = None

    # ---- public ------------------------------------------------------------------
    def forecast(self, X_future: pd.DataFrame | None = None, levels: Sequence[int] = LEVELS) -> pd.DataFrame:
        """Forecasts (and intervals) for the rows of X_future, or the next forecast_horizon steps
        of every series when X_future is None."""
        s = self.schema
        requested = self._requested(X_future)
        grid = self._grid(requested, X_future)
        if self.store is None or grid.empty:
            combined = self._combine(grid, levels, None)
        else:  # one stored file of series at a time: the whole panel is never in memory
            parts = []
            for part, uids in self.store.groups(grid[SERIES_ID].unique()).items():
                history = self.store.read(part, uids)
                parts.append(self._combine(grid[grid[SERIES_ID].isin(uids)], levels, history))
            combined = pd.concat(parts, ignore_index=True)
        result = requested.merge(combined, on=[SERIES_ID, TIME], how="left")
        out = result[[*s.id_columns]].copy() if s.id_columns else pd.DataFrame(index=result.index)
        out[s.time_column] = result[TIME].to_numpy()
        out["prediction"] = result["yhat"].to_numpy()
        for level in levels:
            out[f"prediction_lower_{level}"] = result[f"yhat_lo_{level}"].to_numpy()
            out[f"prediction_upper_{level}"] = result[f"yhat_hi_{level}"].to_numpy()
        return out

    def _combine(self, grid: pd.DataFrame, levels: Sequence[int], history: pd.DataFrame | None) -> pd.DataFrame:
        """The members' forecasts over the grid, weighted."""
        if grid.empty:  # every requested series unknown
            columns = ["yhat", *[f"yhat_{side}_{lv}" for lv in levels for side in ("lo", "hi")]]
            return grid[[SERIES_ID, TIME]].assign(**{c: np.nan for c in columns})
        short = grid[SERIES_ID].isin(self.fallback_series).to_numpy()
        parts = []
        if short.any():
            parts.append(self.fallback.predict(grid[short], levels=levels, history=history))
        if (~short).any():
            combined = None
            for member, w in zip(self.members, self.weights):
                out = member.predict(grid[~short], levels=levels, history=history).set_index([SERIES_ID, TIME])
                combined = out * w if combined is None else combined + out * w
            parts.append(combined.reset_index())
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def forecast_quantiles(self, X_future: pd.DataFrame | None = None,
                           quantiles: Sequence[float] = DEFAULT_QUANTILES) -> pd.DataFrame:
        """Azure's forecast_quantiles: the ids, the time and one column per quantile (named by its value,
        "0.1"...). A quantile q is a bound of the central interval of level |2q - 1|; 0.5 is the point
        forecast."""
        qs = [float(q) for q in quantiles] if not isinstance(quantiles, (int, float)) else [float(quantiles)]
        bad = [q for q in qs if not 0.005 <= q <= 0.995]
        if bad or not qs:
            raise ConfigError(f"quantiles={list(quantiles) if not isinstance(quantiles, (int, float)) else quantiles!r}: "
                              "give probabilities between 0.005 and 0.995, e.g. (0.1, 0.5, 0.9).")
        level_of = {q: int(round(abs(2 * q - 1) * 100)) for q in qs}
        levels = sorted({lv for lv in level_of.values() if lv > 0})
        predicted = self.forecast(X_future, levels=levels or (80,))
        out = predicted[[*self.schema.id_columns, self.schema.time_column]].copy()
        for q in qs:
            level = level_of[q]
            column = "prediction" if level == 0 else f"prediction_{'lower' if q < 0.5 else 'upper'}_{level}"
            out[f"{q:g}"] = predicted[column].to_numpy()
        return out

    def future_frame(self) -> pd.DataFrame:
        """The rows (ids, time) of the next forecast_horizon steps of every series: what a
        forecast-publishing job asks for when no covariates are needed."""
        requested = self._requested(None)
        out = requested[[*self.schema.id_columns]].copy()
        out[self.schema.time_column] = requested[TIME].to_numpy()
        return out

    def predict(self, X_future: pd.DataFrame) -> np.ndarray:
        return self.forecast(X_future, levels=())["prediction"].to_numpy()

    # ---- checks and the step grid -------------------------------------------------------
    def _requested(self, X_future: pd.DataFrame | None) -> pd.DataFrame:
        """The requested rows with their series key and step; rows of unknown series get step 0
        (reported, not forecast)."""
        s = self.schema
        if X_future is None:
            if self.uses_covariates:
                raise DataError("This model uses covariates known at forecast time: pass X_future with the "
                                f"columns {[*s.id_columns, s.time_column, *s.covariates]} for the rows to forecast.")
            rows = [(uid, t, k) for uid, last in s.last_time.items()
                    for k, t in enumerate(s.times_after(last, s.horizon), start=1)]
            frame = pd.DataFrame(rows, columns=[SERIES_ID, TIME, _STEP])
            for i, c in enumerate(s.id_columns):  # the training values, not a split of the key
                frame[c] = [s.id_values[uid][i] for uid in frame[SERIES_ID]]
            return frame
        if not isinstance(X_future, pd.DataFrame):
            raise DataError(f"X_future must be a pandas DataFrame; got {type(X_future).__name__}.")
        needed = [*s.id_columns, s.time_column] + (s.covariates if self.uses_covariates else [])
        missing = [c for c in needed if c not in X_future.columns]
        if missing:
            raise DataError(f"X_future is missing column(s) {missing}; it needs {needed}.")
        frame = X_future.copy()
        frame[SERIES_ID] = s.key(frame).to_numpy()
        times = frame[s.time_column]
        frame[TIME] = times.astype("int64") if s.integer_time else pd.to_datetime(times, errors="coerce")
        if frame[TIME].isna().any():
            raise DataError(f"X_future's time column {s.time_column!r} has missing or unparsable values.")
        known = frame[SERIES_ID].isin(s.last_time.keys()).to_numpy()
        if not known.all():
            unknown = sorted(set(frame.loc[~known, SERIES_ID]))
            warnings.warn(f"X_future has {len(unknown)} series the model has no history for (ids {s.id_columns}): "
                          f"{unknown[:5]}; their rows get no forecast (NaN), the other series are forecast. Known "
                          f"series include {sorted(s.last_time)[:5]}.", UnknownSeriesWarning, stacklevel=3)
        steps = np.zeros(len(frame), dtype=np.int64)
        steps[known] = s.steps_after(frame.loc[known, SERIES_ID], frame.loc[known, TIME])
        bad = known & (steps < 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            uid = frame[SERIES_ID].iloc[i]
            raise DataError(
                f"X_future row {i} (series {uid!r}, {s.time_column}={frame[TIME].iloc[i]}) is not a step of freq "
                f"{s.freq!r} after that series' last training time {s.last_time[uid]}, within {s.reach} steps: the "
                f"model forecasts from the end of each series' training data, on the training frequency.")
        if (steps > s.horizon).any():
            warnings.warn(f"X_future asks for up to {int(steps.max())} steps ahead, past forecast_horizon="
                          f"{s.horizon}: those steps are forecast recursively, and the further the less accurately.",
                          UserWarning, stacklevel=3)
        frame[_STEP] = steps
        return frame

    def _grid(self, requested: pd.DataFrame, X_future: pd.DataFrame | None) -> pd.DataFrame:
        """Every step from 1 to the furthest requested one, per known series, with the known covariates."""
        s = self.schema
        furthest = requested[requested[_STEP] > 0].groupby(SERIES_ID)[_STEP].max()
        rows = [(uid, t) for uid, n in furthest.items() for t in s.times_after(s.last_time[uid], int(n))]
        grid = pd.DataFrame(rows, columns=[SERIES_ID, TIME]).astype({TIME: requested[TIME].dtype})
        if X_future is not None and s.covariates:
            cov = [c for c in s.covariates if c in requested.columns]
            grid = grid.merge(requested[[SERIES_ID, TIME, *cov]], on=[SERIES_ID, TIME], how="left")
        for c in s.covariates:
            if c not in grid.columns:
                grid[c] = np.nan
        return grid.sort_values([SERIES_ID, TIME], kind="mergesort").reset_index(drop=True)


class UnknownSeriesWarning(UserWarning):
    """Rows of X_future whose series the model has no history for: they get no forecast."""


HISTORY_ARTIFACT = "history"


def __getattr__(name: str):
    """ForecastPyfunc lives in forecasting.pyfunc (it imports mlflow); models logged before the move
    name it here."""
    if name == "ForecastPyfunc":
        from .pyfunc import ForecastPyfunc

        return ForecastPyfunc
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
