"""ForecastingModel: what get_output() returns for task='forecasting' and what MLflow logs.

forecast(X_future) takes the user's own columns (series ids, time, known covariates),
checks them, forecasts every step up to the furthest requested one (recursion needs them
all) and returns the requested rows with prediction intervals.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .forecasters import LEVELS
from .store import HistoryStore

REACH_HORIZONS = 20  # forecasts reach at most this many horizons past a series' end
MIN_REACH = 100
_STEP = "_step"
from .settings import SERIES_ID, TARGET, TIME


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

    def grid_after(self, steps: pd.Series) -> pd.DataFrame:
        """(unique_id, time) of steps 1..n after each series' end, for `steps` (n indexed by series id)."""
        rows = [(uid, t) for uid, n in steps.items() for t in self.times_after(self.last_time[uid], int(n))]
        return pd.DataFrame(rows, columns=[SERIES_ID, TIME])

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

    assignment: dict[str, int] | None = None  # models pickled before PerSeriesBest have none

    def __init__(self, members: Sequence[Any], weights: Sequence[float], names: Sequence[str],
                 schema: SeriesSchema, uses_covariates: bool, store: HistoryStore | None = None,
                 fallback: Any = None, fallback_series: Sequence[str] = (), assignment: dict[str, int] | None = None):
        self.members, self.weights, self.names = list(members), list(weights), list(names)
        # PerSeriesBest: series id -> the one member that forecasts it (series not listed: the first member, the
        # best overall); None: every member forecasts every series, weighted
        self.assignment = assignment
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
    def forecast(self, X_future: pd.DataFrame | None = None, y_pred: Any = None, levels: Sequence[int] = LEVELS,
                 forecast_destination: Any = None) -> pd.DataFrame:
        """Forecasts (and intervals) for the rows of X_future, or the next forecast_horizon steps of every
        series when X_future is None (up to `forecast_destination` when given).

        y_pred (Azure's argument): one value per X_future row, NaN where a forecast is wanted and the actual
        value where it is known. Known rows after a series' training end are context: the series is
        forecast from its last actual, not from the end of the training data. Known rows get no forecast."""
        if y_pred is None:
            return self._forecast(self._requested(X_future, self.schema, forecast_destination), X_future,
                                  levels, self.schema, None)
        if X_future is None:
            raise DataError("y_pred needs X_future: give the rows (ids, time, covariates) that y_pred's values belong to.")
        if forecast_destination is not None:
            raise ConfigError("Pass either y_pred (forecast the rows of X_future whose y_pred is NaN) or "
                              "forecast_destination (forecast every series up to a time), not both.")
        actual = self._actuals(X_future, y_pred)
        known = ~np.isnan(actual)
        context = self._context(X_future[known], actual[known])
        schema = replace(self.schema, last_time={**self.schema.last_time, **context.ends})
        wanted = X_future[~known]
        part = self._forecast(self._requested(wanted, schema), wanted, levels, schema, context.rows)
        out = self._frame(self._keyed(X_future, context=True), levels)
        out.iloc[np.flatnonzero(~known), :] = part.to_numpy()
        return out.astype(part.dtypes.to_dict())

    def rolling_forecast(self, X_pred: pd.DataFrame, y_pred: Any, step: int = 1,
                         levels: Sequence[int] = ()) -> pd.DataFrame:
        """Azure's rolling_forecast: a rolling-origin evaluation over a test set that follows the training
        data. The first origin is each series' training end; each later origin is `step` steps further, with
        the actuals up to it as context. Every origin forecasts the next forecast_horizon rows of X_pred.

        One row per (origin, forecast row): X_pred's ids and time, `_automl_forecast_origin` (the origin's
        time), `horizon` (steps from the origin), `_automl_forecast_y` and `_automl_actual_y`."""
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
            raise ConfigError(f"step={step!r}: give a positive whole number of time steps between forecast origins.")
        s = self.schema
        actual = self._actuals(X_pred, y_pred)  # checks X_pred is a DataFrame too
        keyed = self._keyed(X_pred)
        known, steps = self._known_steps(keyed, s)
        X_pred = X_pred.reset_index(drop=True)
        parts = []
        for origin in range(0, int(steps.max(initial=0)), int(step)):
            rows = np.flatnonzero(known & (steps <= origin + s.horizon))
            window = steps[rows] > origin
            if not window.any():
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnknownSeriesWarning)
                out = self.forecast(X_pred.iloc[rows], np.where(window, np.nan, actual[rows]), levels=levels)
            origin_time = self._origin_times(keyed.iloc[rows][window], steps[rows][window] - origin)
            out = out[window].assign(_automl_forecast_origin=origin_time, horizon=steps[rows][window] - origin)
            parts.append(out.assign(_automl_actual_y=actual[rows][window]))
        if not parts:
            raise DataError("X_pred has no rows after the training data to forecast; rolling_forecast evaluates "
                            "on a test set that follows each series' last training time.")
        out = pd.concat(parts, ignore_index=True).rename(columns={"prediction": "_automl_forecast_y"})
        first = [*s.id_columns, s.time_column, "_automl_forecast_origin", "horizon", "_automl_forecast_y",
                 "_automl_actual_y"]
        return out[first + [c for c in out.columns if c not in first]]

    def _forecast(self, requested: pd.DataFrame, X_future: pd.DataFrame | None, levels: Sequence[int],
                  schema: SeriesSchema, context: pd.DataFrame | None) -> pd.DataFrame:
        grid = self._grid(requested, X_future, schema)
        if self.store is None or grid.empty:
            combined = self._combine(grid, levels, None, context)
        else:  # one stored file of series at a time: the whole panel is never in memory
            parts = []
            for part, uids in self.store.groups(grid[SERIES_ID].unique()).items():
                history = self.store.read(part, uids)
                parts.append(self._combine(grid[grid[SERIES_ID].isin(uids)], levels, history, context))
            combined = pd.concat(parts, ignore_index=True)
        result = requested.merge(combined, on=[SERIES_ID, TIME], how="left")
        out = self._frame(result, levels)
        out["prediction"] = result["yhat"].to_numpy()
        for level in levels:
            out[f"prediction_lower_{level}"] = result[f"yhat_lo_{level}"].to_numpy()
            out[f"prediction_upper_{level}"] = result[f"yhat_hi_{level}"].to_numpy()
        return out

    def _frame(self, keyed: pd.DataFrame, levels: Sequence[int]) -> pd.DataFrame:
        """The output's ids and time for the keyed rows, every forecast column NaN."""
        s = self.schema
        out = keyed[[*s.id_columns]].reset_index(drop=True).copy() if s.id_columns else pd.DataFrame(
            index=range(len(keyed)))
        out[s.time_column] = keyed[TIME].to_numpy()
        columns = ["prediction", *[f"prediction_{side}_{lv}" for lv in levels for side in ("lower", "upper")]]
        return out.assign(**{c: np.nan for c in columns})

    def _combine(self, grid: pd.DataFrame, levels: Sequence[int], history: pd.DataFrame | None,
                 context: pd.DataFrame | None = None) -> pd.DataFrame:
        """The members' forecasts over the grid, weighted. context: actuals after the training end, appended
        to each forecaster's history."""
        if grid.empty:  # every requested series unknown
            columns = ["yhat", *[f"yhat_{side}_{lv}" for lv in levels for side in ("lo", "hi")]]
            return grid[[SERIES_ID, TIME]].assign(**{c: np.nan for c in columns})
        short = grid[SERIES_ID].isin(self.fallback_series).to_numpy()
        parts = []
        if short.any():
            parts.append(self.fallback.predict(grid[short], levels=levels,
                                               history=_extended(self.fallback, history, context)))
        if (~short).any() and self.assignment:
            rest = grid[~short]
            chosen = rest[SERIES_ID].map(self.assignment).fillna(0).astype(int).to_numpy()
            for j in np.unique(chosen):
                member = self.members[int(j)]
                parts.append(member.predict(rest[chosen == j], levels=levels,
                                            history=_extended(member, history, context)))
        elif (~short).any():
            combined = None
            for member, w in zip(self.members, self.weights):
                out = member.predict(grid[~short], levels=levels, history=_extended(member, history, context))
                out = out.set_index([SERIES_ID, TIME])
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

    def naive_scales(self, series_ids: Sequence[str], season_length: int) -> pd.Series:
        """Each series' seasonal-naive MAE on the history the model holds (MASE's denominator)."""
        from .metrics import naive_scales

        wanted = set(series_ids)
        if self.store is not None:
            parts = [self.store.read(part, uids) for part, uids in self.store.groups(sorted(wanted)).items()]
        else:
            parts = [f.history for f in [self.members[0], self.fallback] if f is not None and f.history is not None]
        if not parts:
            return pd.Series(dtype=np.float64)
        history = pd.concat(parts, ignore_index=True)
        return naive_scales(history[history[SERIES_ID].isin(wanted)], season_length)

    def future_frame(self) -> pd.DataFrame:
        """The rows (ids, time) of the next forecast_horizon steps of every series: what a
        forecast-publishing job asks for when no covariates are needed."""
        requested = self._requested(None, self.schema)
        out = requested[[*self.schema.id_columns]].copy()
        out[self.schema.time_column] = requested[TIME].to_numpy()
        return out

    def predict(self, X_future: pd.DataFrame) -> np.ndarray:
        return self.forecast(X_future, levels=())["prediction"].to_numpy()

    # ---- checks and the step grid -------------------------------------------------------
    def _keyed(self, X_future: pd.DataFrame, context: bool = False) -> pd.DataFrame:
        """A copy of X_future with the series key and the parsed time; its columns checked. Context rows need
        no covariates unless the model learns from them."""
        s = self.schema
        if not isinstance(X_future, pd.DataFrame):
            raise DataError(f"X_future must be a pandas DataFrame; got {type(X_future).__name__}.")
        needed = [*s.id_columns, s.time_column] + (s.covariates if self.uses_covariates and not context else [])
        missing = [c for c in needed if c not in X_future.columns]
        if missing:
            raise DataError(f"X_future is missing column(s) {missing}; it needs {needed}.")
        frame = X_future.reset_index(drop=True).copy()
        frame[SERIES_ID] = s.key(frame).to_numpy()
        times = frame[s.time_column]
        frame[TIME] = times.astype("int64") if s.integer_time else pd.to_datetime(times, errors="coerce")
        if frame[TIME].isna().any():
            raise DataError(f"X_future's time column {s.time_column!r} has missing or unparsable values.")
        return frame

    def _warn_unknown(self, unknown_rows: pd.DataFrame) -> None:
        s = self.schema
        unknown = sorted(set(unknown_rows[SERIES_ID]))
        warnings.warn(f"X_future has {len(unknown)} series the model has no history for (ids {s.id_columns}): "
                      f"{unknown[:5]}; their rows get no forecast (NaN), the other series are forecast. Known "
                      f"series include {sorted(s.last_time)[:5]}.", UnknownSeriesWarning, stacklevel=4)

    @staticmethod
    def _raise_off_grid(frame: pd.DataFrame, bad: np.ndarray, s: SeriesSchema) -> None:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            uid = frame[SERIES_ID].iloc[i]
            raise DataError(
                f"X_future row {i} (series {uid!r}, {s.time_column}={frame[TIME].iloc[i]}) is not a step of freq "
                f"{s.freq!r} after that series' last known time {s.last_time[uid]}, within {s.reach} steps: the "
                f"model forecasts from the end of each series' training data (or of the actuals given as y_pred), "
                "on the training frequency.")

    def _known_steps(self, frame: pd.DataFrame, s: SeriesSchema) -> tuple[np.ndarray, np.ndarray]:
        """(known series, steps after each known series' end) of keyed rows; unknown series are reported and
        get step 0, a known row off the grid or before its series' end is refused."""
        known = frame[SERIES_ID].isin(s.last_time.keys()).to_numpy()
        if not known.all():
            self._warn_unknown(frame[~known])
        steps = np.zeros(len(frame), dtype=np.int64)
        steps[known] = s.steps_after(frame.loc[known, SERIES_ID], frame.loc[known, TIME])
        self._raise_off_grid(frame, known & (steps < 1), s)
        return known, steps

    def _requested(self, X_future: pd.DataFrame | None, s: SeriesSchema,
                   destination: Any = None) -> pd.DataFrame:
        """The requested rows with their series key and step; rows of unknown series get step 0
        (reported, not forecast)."""
        if X_future is None:
            if self.uses_covariates:
                raise DataError("This model uses covariates known at forecast time: pass X_future with the "
                                f"columns {[*s.id_columns, s.time_column, *s.covariates]} for the rows to forecast.")
            rows = [(uid, t, k) for uid, last in s.last_time.items()
                    for k, t in enumerate(s.times_after(last, self._steps_to(destination, last)), start=1)]
            frame = pd.DataFrame(rows, columns=[SERIES_ID, TIME, _STEP])
            for i, c in enumerate(s.id_columns):  # the training values, not a split of the key
                frame[c] = [s.id_values[uid][i] for uid in frame[SERIES_ID]]
            return frame
        if destination is not None:
            raise ConfigError("forecast_destination forecasts every series up to a time; with X_future, the rows "
                              "of X_future are forecast instead. Pass one of them.")
        frame = self._keyed(X_future)
        _, steps = self._known_steps(frame, s)
        if (steps > s.horizon).any():
            warnings.warn(f"X_future asks for up to {int(steps.max())} steps ahead, past forecast_horizon="
                          f"{s.horizon}: those steps are forecast recursively, and the further the less accurately.",
                          UserWarning, stacklevel=3)
        frame[_STEP] = steps
        return frame

    def _steps_to(self, destination: Any, last: Any) -> int:
        """forecast_destination as a number of steps after `last` (the horizon when None)."""
        s = self.schema
        if destination is None:
            return s.horizon
        try:
            when = int(destination) if s.integer_time else pd.Timestamp(destination)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"forecast_destination={destination!r} is not a {'time step' if s.integer_time else 'time'} "
                              f"like the training data's {s.time_column!r}.") from exc
        grid = s.times_after(last, s.reach)
        reached = [k for k, t in enumerate(grid, start=1) if t <= when]
        return reached[-1] if reached else 0

    def _actuals(self, X_future: pd.DataFrame, y_pred: Any) -> np.ndarray:
        """y_pred as floats, one per X_future row."""
        if not isinstance(X_future, pd.DataFrame):
            raise DataError(f"X_future must be a pandas DataFrame; got {type(X_future).__name__}.")
        try:
            values = np.asarray(pd.to_numeric(pd.Series(np.asarray(y_pred, dtype=object).ravel()), errors="raise"),
                                dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"y_pred must hold numbers (NaN where a forecast is wanted): {exc}") from exc
        if len(values) != len(X_future):
            raise DataError(f"y_pred has {len(values)} values for {len(X_future)} X_future rows: give one per row, "
                            "NaN where a forecast is wanted.")
        return values

    def _context(self, X_known: pd.DataFrame, actual: np.ndarray) -> "_Context":
        """The actuals after each series' training end, as history rows on its grid (gaps NaN)."""
        s = self.schema
        frame = self._keyed(X_known, context=True).assign(**{TARGET: actual})
        frame = frame[frame[SERIES_ID].isin(s.last_time.keys())]  # unknown series are reported with the forecasts
        ends = frame[SERIES_ID].map(s.last_time)
        inside = (frame[TIME].to_numpy(np.int64) <= ends.to_numpy(np.int64)) if s.integer_time else (
            frame[TIME].to_numpy("datetime64[ns]") <= pd.to_datetime(ends).to_numpy("datetime64[ns]"))
        frame = frame[~inside].reset_index(drop=True)  # actuals inside the training data are already known
        steps = s.steps_after(frame[SERIES_ID], frame[TIME]) if len(frame) else np.zeros(0, np.int64)
        self._raise_off_grid(frame, steps < 1, s)
        frame = frame.assign(**{_STEP: steps}).sort_values([SERIES_ID, _STEP], kind="mergesort")
        if frame.duplicated([SERIES_ID, _STEP]).any():
            dup = frame[frame.duplicated([SERIES_ID, _STEP])].iloc[0]
            raise DataError(f"y_pred gives two actuals for series {dup[SERIES_ID]!r} at {dup[TIME]}; give one per time.")
        grid = s.grid_after(frame.groupby(SERIES_ID)[_STEP].max()).astype({TIME: frame[TIME].dtype})
        keep = [SERIES_ID, TIME, TARGET, *[c for c in s.covariates if c in frame.columns]]
        rows = grid.merge(frame[keep], on=[SERIES_ID, TIME], how="left")
        last_times = rows.groupby(SERIES_ID)[TIME].max()
        return _Context(rows=rows, ends={uid: _as_time(t, s.integer_time) for uid, t in last_times.items()})

    def _origin_times(self, keyed: pd.DataFrame, ahead: np.ndarray) -> np.ndarray:
        """The time `ahead` steps before each row (its forecast origin)."""
        s = self.schema
        if s.integer_time:
            return keyed[TIME].to_numpy(np.int64) - np.asarray(ahead, np.int64) * int(s.freq)
        offset = pd.tseries.frequencies.to_offset(s.freq)
        return np.array([pd.Timestamp(t) - int(k) * offset for t, k in zip(keyed[TIME], ahead)], dtype="datetime64[ns]")

    def _grid(self, requested: pd.DataFrame, X_future: pd.DataFrame | None, s: SeriesSchema) -> pd.DataFrame:
        """Every step from 1 to the furthest requested one, per known series, with the known covariates."""
        grid = s.grid_after(requested[requested[_STEP] > 0].groupby(SERIES_ID)[_STEP].max()).astype(
            {TIME: requested[TIME].dtype})
        if X_future is not None and s.covariates:
            cov = [c for c in s.covariates if c in requested.columns]
            grid = grid.merge(requested[[SERIES_ID, TIME, *cov]], on=[SERIES_ID, TIME], how="left")
        for c in s.covariates:
            if c not in grid.columns:
                grid[c] = np.nan
        return grid.sort_values([SERIES_ID, TIME], kind="mergesort").reset_index(drop=True)


@dataclass
class _Context:
    rows: pd.DataFrame  # canonical history rows after the training end (SERIES_ID, TIME, TARGET, covariates)
    ends: dict[str, Any]  # unique_id -> its last actual's time


def _as_time(value: Any, integer_time: bool) -> Any:
    return int(value) if integer_time else pd.Timestamp(value)


def _extended(forecaster: Any, history: pd.DataFrame | None, context: pd.DataFrame | None) -> pd.DataFrame | None:
    """The forecaster's history (or the one read for it) with the context actuals of its series appended."""
    if context is None or context.empty:
        return history
    base = forecaster.history if history is None else history
    extra = context[context[SERIES_ID].isin(base[SERIES_ID].unique())]
    if extra.empty:
        return base
    return pd.concat([base, extra], ignore_index=True).sort_values([SERIES_ID, TIME], kind="mergesort",
                                                                   ignore_index=True)


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
