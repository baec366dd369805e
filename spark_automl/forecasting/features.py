"""LagFeaturizer: features for global regression models that forecast recursively, one step at a time.

It turns the canonical long frame (unique_id, ds, y, covariates) into one float64 row per input row.
The contract that keeps recursive forecasting honest: every target-derived feature of the row at time
t uses only y at times < t of its own series, so `next_step` on a history that ends with predictions
gives exactly the features the model was trained on (tests/forecast/test_features.py enforces it).

What fit() learns (series codes and means, vocabularies, fill values, STL) depends only on the fit
history, so rolling-origin validation refits on the data before each origin.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from pandas.errors import PerformanceWarning
from pandas.tseries import offsets as pdo
from pandas.tseries.frequencies import to_offset
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from .._validation import NONE, Interval, Options, Predicate, validate_parameters
from ..errors import ConfigError, DataError
from .settings import LAGS, SERIES_ID, TARGET, TIME

PADDED = "_padded"  # set by short-series padding; marks rows that are not real observations
# Periods labelled by their first instant ([ds, ds + freq)); every other offset labels the period's end.
_START_LABELLED = (pdo.MonthBegin, pdo.QuarterBegin, pdo.YearBegin, pdo.BusinessMonthBegin,
                   pdo.BQuarterBegin, pdo.BYearBegin, pdo.SemiMonthBegin, pdo.Tick)
_FAR = 366.0  # days_to/since_holiday when no holiday is in reach

PARAMS = {
    "season_length": [Interval(int, 1, None)],
    "target_lags": [NONE, LAGS],
    "rolling_window": [NONE, Interval(int, 2, None), Options(("auto",))],
    "feature_lags": [NONE, Options(("auto",))],
    "use_stl": [NONE, Options(("season", "season_trend"))],
    "holidays_country": [NONE, Predicate(lambda v: isinstance(v, str) and bool(v), "an ISO country code")],
    "horizon": [Interval(int, 1, None)],
}


def default_lags(season_length: int) -> list[int]:
    """Lags used when target_lags is None or 'auto': [1, 2, 3, season_length], deduplicated.

    The last three steps carry level and momentum; one season back carries the seasonal phase.
    """
    return sorted({1, 2, 3, max(1, int(season_length))})


def calendar_parts(step: pd.Timedelta) -> list[str]:
    """Calendar parts that vary between steps of this length (no hour for daily, no day for monthly)."""
    rules = [("year", True), ("quarter", step < pd.Timedelta(days=300)), ("month", step < pd.Timedelta(days=80)),
             ("weekofyear", step <= pd.Timedelta(days=7)), ("day", step < pd.Timedelta(days=7)),
             ("dayofweek", step < pd.Timedelta(days=7)), ("dayofyear", step < pd.Timedelta(days=7)),
             ("hour", step < pd.Timedelta(days=1)), ("minute", step < pd.Timedelta(hours=1))]
    return [name for name, keep in rules if keep]


@functools.lru_cache(maxsize=64)
def holiday_days(country: str, first_year: int, last_year: int) -> np.ndarray:
    """Sorted holiday dates (as int days since the epoch) of `country` over the years, inclusive."""
    import holidays

    try:
        table = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    except (NotImplementedError, KeyError) as exc:
        raise ConfigError(
            f"country_or_region_for_holidays={country!r} is not a country the holidays library knows. "
            "Use an ISO 3166 code such as 'US', 'GB' or 'DE' (see holidays.list_supported_countries())."
        ) from exc
    return np.unique(np.array(sorted(table), dtype="datetime64[D]").astype(np.int64))


class _Layout:
    """Row positions sorted by (series, time step), with each row's series number and place in it."""

    def __init__(self, ids: np.ndarray, steps: np.ndarray):
        codes, uniques = pd.factorize(ids, sort=True)
        self.order = np.lexsort((steps, codes))
        self.uniques = np.asarray(uniques, dtype=object)
        self.group = codes[self.order]
        self.steps = steps[self.order]
        n = len(self.order)
        first = np.ones(n, dtype=bool)
        first[1:] = self.group[1:] != self.group[:-1]
        self.starts = np.flatnonzero(first)
        self.ends = np.append(self.starts[1:], n if n else []).astype(np.int64)
        self.start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        self.pos = np.arange(n) - self.start
        self._first = first

    def check_regular(self, ds: pd.Series, freq: Any) -> None:
        """Lags are taken by position, so each series must be on a gap-free grid."""
        jump = np.diff(self.steps)
        bad = np.flatnonzero(~self._first[1:] & (jump != 1))
        if len(bad):
            i = bad[0] + 1
            where = ds.iloc[self.order[i]]
            what = "a duplicate time" if jump[i - 1] == 0 else f"a jump of {jump[i - 1]} steps"
            raise DataError(
                f"Series {self.uniques[self.group[i]]!r} is not on a regular freq={freq!r} grid: column "
                f"'{TIME}' has {what} at {where}. Fill missing steps with y = NaN (or aggregate duplicates) first."
            )

    def per_row(self, per_series: np.ndarray) -> np.ndarray:
        return per_series[self.group]


def _ffill(values: np.ndarray, layout: _Layout) -> np.ndarray:
    """Forward fill within each series; a leading gap stays NaN (it must never be filled from the future)."""
    n = len(values)
    last = np.maximum.accumulate(np.where(np.isnan(values), -1, np.arange(n)))
    out = np.full(n, np.nan)
    ok = last >= layout.start
    out[ok] = values[last[ok]]
    return out


def _impute(values: np.ndarray, layout: _Layout, fill: np.ndarray) -> np.ndarray:
    out = _ffill(values, layout)
    gap = np.isnan(out)
    out[gap] = fill[gap]
    return out


def _shift(values: np.ndarray, layout: _Layout, lag: int, fill: np.ndarray | float) -> np.ndarray:
    """values[t - lag] within the series; rows with no such earlier row get `fill`."""
    n = len(values)
    out = np.empty(n)
    if lag < n:
        out[lag:] = values[: n - lag]
    early = layout.pos < lag
    out[early] = fill[early] if isinstance(fill, np.ndarray) else fill
    return out


class LagFeaturizer(TransformerMixin, BaseEstimator):
    """Per-series lag, rolling, calendar, holiday, covariate and STL features; float64, no NaN.

    Features (names in `feature_names_`):
      - series_code (int code learned at fit, unseen -> -1), series_mean (mean y at fit: a target
        encoding learned on history only);
      - time_index (steps since the fit origin: the trend), cal_* calendar parts that vary at `freq`;
      - holidays (holidays_country): is_holiday, days_to_holiday, days_since_holiday for daily or finer
        data, else holidays_in_period (holidays inside the period the row stands for);
      - y_lag{l}: y at t - l after a forward fill within the series (leading gap -> fit-time series mean);
        lags are `target_lags`, or `default_lags(season_length)` when None or 'auto';
      - y_roll{w}_{mean,min,max,std}: over y[t-w .. t-1] (population std); 'auto' w is season_length if
        > 1 else 3;
      - covariates: known ones at the row's own time (numeric forward filled, categorical as codes, unseen
        -> -1); unknown ones (features_unknown_at_forecast_time) only lagged by `horizon` steps, so they
        are known at the forecast origin for the whole horizon; feature_lags='auto' adds lag `horizon`
        of every known numeric covariate;
      - stl_season, stl_trend (use_stl): statsmodels STL fit once per series on the fit history
        (period=season_length, series with >= 2 seasons; others get 0 / the series mean). STL is a
        two-sided smoother fit on the training history, as Azure does, so it is NOT a lag feature: inside
        the history it sees the row's own y. Later rows repeat the last cycle of the seasonal component
        and extend the trend with the slope of its last season.
    Gaps a feature cannot see past (first rows of a series) get the fit-time series mean, so linear
    models get no NaN.
    """

    def __init__(self, freq: str | int | None, season_length: int = 1, target_lags: list[int] | str | None = None,
                 rolling_window: int | str | None = None, covariates: Sequence[str] = (),
                 unknown_covariates: Sequence[str] = (), feature_lags: str | None = None,
                 holidays_country: str | None = None, use_stl: str | None = None, horizon: int = 1):
        self.freq = freq
        self.season_length = season_length
        self.target_lags = target_lags
        self.rolling_window = rolling_window
        self.covariates = covariates
        self.unknown_covariates = unknown_covariates
        self.feature_lags = feature_lags
        self.holidays_country = holidays_country
        self.use_stl = use_stl
        self.horizon = horizon

    # ------------------------------------------------------------------ fit
    def fit(self, history: pd.DataFrame, y: Any = None) -> "LagFeaturizer":
        """Learn codes, vocabularies, fill values, STL and the resolved settings from `history`."""
        validate_parameters("LagFeaturizer", {k: getattr(self, k) for k in PARAMS}, PARAMS)
        self._check_columns(history, "fit")
        self._fit_time(history[TIME])
        lags = self.target_lags
        self.lags_ = default_lags(self.season_length) if lags in (None, "auto") else sorted(
            {int(v) for v in ([lags] if isinstance(lags, int) else lags)})
        window = self.rolling_window
        self.window_ = (self.season_length if self.season_length > 1 else 3) if window == "auto" else window
        self._fit_covariates(history)
        self.holidays_ = None
        if self.holidays_country:
            if self.integer_time_:
                raise ConfigError("country_or_region_for_holidays needs a datetime time column; "
                                  f"'{TIME}' holds integer time steps. Remove the country or use dates.")
            self.holidays_country_ = self.holidays_country.upper()
            holiday_days(self.holidays_country_, 2000, 2000)  # fails fast on an unknown country
            self.holidays_ = "flag" if self.step_ <= pd.Timedelta(days=1) else "count"

        layout = self._layout(history)
        yv = self._target(history, layout)
        padded = self._padded(history, layout)
        real = np.where(padded, np.nan, yv)
        stats = {TARGET: real}
        for c in self.numeric_:
            stats[c] = np.where(padded, np.nan, self._numeric(history, c, layout))
        frame = pd.DataFrame(stats)
        self.series_stats_ = frame.groupby(layout.group).mean().set_axis(list(layout.uniques))
        self.global_stats_ = frame.mean().fillna(0.0)
        self.series_vocab_ = pd.Index(layout.uniques.astype(str))
        self.stl_ = self._fit_stl(layout, yv) if self.use_stl else {}
        self.feature_names_ = self._names()
        dupes = sorted({n for n in self.feature_names_ if self.feature_names_.count(n) > 1})
        if dupes:
            raise DataError(f"Covariate name(s) {dupes} clash with generated feature names; rename those columns.")
        lagged = self.feature_lags or any(c in self.unknown_ for c in self.covariates_)
        self.memory_ = max([1, *self.lags_, self.window_ or 1, self.horizon if lagged else 1])
        return self

    def _fit_time(self, ds: pd.Series) -> None:
        self.integer_time_ = pd.api.types.is_integer_dtype(ds)
        if self.integer_time_:
            bad = isinstance(self.freq, bool) or not isinstance(self.freq, int) or self.freq < 1
            if self.freq is not None and bad:
                raise ConfigError(f"freq={self.freq!r} does not fit integer time steps in '{TIME}'; "
                                  "pass freq as an int step (e.g. 1) or None.")
            self.step_ = int(self.freq or 1)
            self.origin_ = int(ds.min())
            self.calendar_ = []
            return
        if not pd.api.types.is_datetime64_any_dtype(ds):
            raise DataError(f"Column '{TIME}' must be datetime64 or int64 time steps; got {ds.dtype}. "
                            "Convert it with pd.to_datetime first.")
        try:
            self.offset_ = to_offset(self.freq) if isinstance(self.freq, str) else None
        except ValueError:
            self.offset_ = None
        if self.offset_ is None:
            raise ConfigError(f"freq={self.freq!r} is not a pandas offset alias; pass one such as 'D', 'MS', "
                              "'W-SUN' or 'h' for datetime time columns.")
        self.origin_ = pd.Timestamp(ds.min()).as_unit("ns")
        if not self.offset_.is_on_offset(self.origin_):
            raise DataError(f"The first time {self.origin_} in '{TIME}' is not on the freq={self.freq!r} grid; "
                            "align the time column to the frequency first.")
        self.step_ = (self.origin_ + self.offset_) - self.origin_
        self.calendar_ = calendar_parts(self.step_)

    def _fit_covariates(self, history: pd.DataFrame) -> None:
        self.covariates_ = list(dict.fromkeys([*self.covariates, *self.unknown_covariates]))
        self.unknown_ = set(self.unknown_covariates)
        reserved = {SERIES_ID, TIME, TARGET, PADDED} & set(self.covariates_)
        if reserved:
            raise ConfigError(f"covariates may not include {sorted(reserved)}: those are the series id, time, "
                              "target and padding columns.")
        missing = [c for c in self.covariates_ if c not in history.columns]
        if missing:
            raise DataError(f"Covariate column(s) {missing} are not in the frame; "
                            f"the columns are {list(history.columns)}.")
        self.numeric_ = [c for c in self.covariates_ if pd.api.types.is_numeric_dtype(history[c])
                         or pd.api.types.is_bool_dtype(history[c])]
        self.vocab_ = {c: pd.Index(sorted(history[c].dropna().astype(str).unique()))
                       for c in self.covariates_ if c not in self.numeric_}

    def _fit_stl(self, layout: _Layout, yv: np.ndarray) -> dict[str, tuple[int, np.ndarray, np.ndarray]]:
        from statsmodels.tsa.seasonal import STL

        m = self.season_length
        if m < 2:
            return {}
        z = _impute(yv, layout, self._series_stat(layout, TARGET))
        out = {}
        for g, (a, b) in enumerate(zip(layout.starts, layout.ends)):
            if b - a >= 2 * m:
                res = STL(z[a:b], period=m).fit()
                out[str(layout.uniques[g])] = (int(layout.steps[a]), np.asarray(res.seasonal, float),
                                               np.asarray(res.trend, float))
        return out

    def _names(self) -> list[str]:
        names = ["series_code", "series_mean", "time_index", *(f"cal_{p}" for p in self.calendar_)]
        if self.holidays_ == "flag":
            names += ["is_holiday", "days_to_holiday", "days_since_holiday"]
        elif self.holidays_ == "count":
            names.append("holidays_in_period")
        names += [f"y_lag{lag}" for lag in self.lags_]
        if self.window_:
            names += [f"y_roll{self.window_}_{s}" for s in ("mean", "min", "max", "std")]
        h = self.horizon
        for c in self.covariates_:
            base = c if c in self.numeric_ else f"{c}_code"
            names.append(f"{base}_lag{h}" if c in self.unknown_ else base)
        if self.feature_lags:
            names += [f"{c}_lag{h}" for c in self.numeric_ if c not in self.unknown_]
        if self.use_stl:
            names += ["stl_season"] + (["stl_trend"] if self.use_stl == "season_trend" else [])
        return names

    # ------------------------------------------------------------ transform
    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_fitted()
        return np.asarray(self.feature_names_, dtype=object)

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One float64 feature row per input row, in the input's index order."""
        self._check_fitted()
        self._check_columns(frame, "transform")
        layout = self._layout(frame)
        cols = self._features(frame, layout)
        out = np.empty((len(frame), len(self.feature_names_)))
        out[layout.order] = np.column_stack([cols[name] for name in self.feature_names_])
        return pd.DataFrame(out, index=frame.index, columns=list(self.feature_names_))

    def next_step(self, history: pd.DataFrame, future_rows: pd.DataFrame) -> pd.DataFrame:
        """Features of `future_rows` (the next step of each series) given `history` (actuals + predictions).

        Equal to transform() on the rows appended to history; only the last `memory_` rows of each
        series are featurized again, after imputing the whole history (forward fill reaches back).
        """
        self._check_fitted()
        future = future_rows.copy()
        for c in [TARGET, *(c for c in self.covariates_ if c in self.unknown_)]:
            if c not in future.columns:
                future[c] = np.nan
        self._check_columns(future, "next_step")
        ids = future[SERIES_ID].astype(str)
        if ids.duplicated().any():
            raise DataError(f"future_rows holds several rows for series {sorted(set(ids[ids.duplicated()]))}; "
                            "next_step takes exactly one next time step per series.")
        keep = [SERIES_ID, TIME, TARGET, *self.covariates_]
        hist = history.loc[history[SERIES_ID].astype(str).isin(set(ids)), keep]
        layout = self._layout(hist)
        tail = hist.iloc[layout.order].reset_index(drop=True)
        tail[TARGET] = _impute(self._target(hist, layout), layout, self._series_stat(layout, TARGET))
        for c in self.numeric_:
            tail[c] = _impute(self._numeric(hist, c, layout), layout, self._series_stat(layout, c))
        last = layout.pos >= (layout.per_row(layout.ends - layout.starts) - self.memory_)
        tail = tail[last]
        expected = dict(zip(layout.uniques, layout.steps[layout.ends - 1] + 1))
        steps = self._steps(future[TIME])
        for uid, step, when in zip(ids, steps, future[TIME]):
            if uid in expected and step != expected[uid]:
                raise DataError(f"future_rows has series {uid!r} at {when}, which is not the step right after "
                                "its history; append each prediction to history before the next step.")
        both = pd.concat([tail, future[keep].reset_index(drop=True)], ignore_index=True)
        feats = self.transform(both).iloc[len(tail):]
        return feats.set_axis(future_rows.index)

    def _features(self, frame: pd.DataFrame, layout: _Layout) -> dict[str, np.ndarray]:
        n = len(layout.order)
        mean_y = self._series_stat(layout, TARGET)
        cols: dict[str, np.ndarray] = {
            "series_code": layout.per_row(self.series_vocab_.get_indexer(layout.uniques.astype(str))).astype(float),
            "series_mean": mean_y,
            "time_index": layout.steps.astype(float),
        }
        if not self.integer_time_:
            cols.update(self._calendar(frame[TIME].iloc[layout.order]))
        z = _impute(self._target(frame, layout), layout, mean_y)
        for lag in self.lags_:
            cols[f"y_lag{lag}"] = _shift(z, layout, lag, mean_y)
        if self.window_:
            cols.update(self._rolling(z, layout, mean_y))
        h = self.horizon
        for c in self.covariates_:
            if c in self.numeric_:
                fill = self._series_stat(layout, c)
                base, v = c, _impute(self._numeric(frame, c, layout), layout, fill)
                lag_fill: np.ndarray | float = fill
            else:
                raw = frame[c].iloc[layout.order] if c in frame.columns else pd.Series(np.nan, index=range(n))
                ok = raw.notna().to_numpy()
                v = np.full(n, -1.0)
                v[ok] = self.vocab_[c].get_indexer(raw[ok].astype(str))
                base, lag_fill = f"{c}_code", -1.0
            if c in self.unknown_:
                cols[f"{base}_lag{h}"] = _shift(v, layout, h, lag_fill)
                continue
            cols[base] = v
            if self.feature_lags and c in self.numeric_:
                cols[f"{base}_lag{h}"] = _shift(v, layout, h, lag_fill)
        if self.use_stl:
            cols.update(self._stl(layout, mean_y))
        return cols

    def _rolling(self, z: np.ndarray, layout: _Layout, mean_y: np.ndarray) -> dict[str, np.ndarray]:
        """Statistics of y[t-w .. t-1]; the first row of a series (empty window) gets mean / 0 std."""
        w = self.window_
        prev = pd.Series(_shift(z, layout, 1, np.nan))
        roll = prev.groupby(layout.group, sort=False).rolling(w, min_periods=1)
        out = {}
        for stat in ("mean", "min", "max", "std"):
            values = (roll.std(ddof=0) if stat == "std" else getattr(roll, stat)()).droplevel(0).sort_index()
            values = values.to_numpy(float)
            empty = np.isnan(values)
            values[empty] = 0.0 if stat == "std" else mean_y[empty]
            out[f"y_roll{w}_{stat}"] = values
        return out

    def _calendar(self, ds: pd.Series) -> dict[str, np.ndarray]:
        idx = pd.DatetimeIndex(ds)
        out = {}
        for part in self.calendar_:
            values = idx.isocalendar()["week"] if part == "weekofyear" else getattr(idx, part)
            out[f"cal_{part}"] = np.asarray(values, dtype=float)
        if self.holidays_:
            out.update(self._holidays(idx))
        return out

    def _holidays(self, idx: pd.DatetimeIndex) -> dict[str, np.ndarray]:
        if len(idx) == 0:
            return {n: np.zeros(0) for n in ("is_holiday", "days_to_holiday", "days_since_holiday",
                                             "holidays_in_period")}
        days = holiday_days(self.holidays_country_, int(idx.year.min()) - 1, int(idx.year.max()) + 1)

        def day_numbers(t: pd.DatetimeIndex) -> np.ndarray:
            return t.normalize().values.astype("datetime64[D]").astype(np.int64)

        if self.holidays_ == "count":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PerformanceWarning)
                if isinstance(self.offset_, _START_LABELLED):
                    lo, hi, side = day_numbers(idx), day_numbers(idx + self.offset_), "left"
                else:
                    lo, hi, side = day_numbers(idx - self.offset_), day_numbers(idx), "right"
            count = np.searchsorted(days, hi, side) - np.searchsorted(days, lo, side)
            return {"holidays_in_period": count.astype(float)}
        d = day_numbers(idx)
        if len(days) == 0:
            return {"is_holiday": np.zeros(len(d)), "days_to_holiday": np.full(len(d), _FAR),
                    "days_since_holiday": np.full(len(d), _FAR)}
        nxt = np.searchsorted(days, d, "left")
        prv = np.searchsorted(days, d, "right") - 1
        to_next = np.where(nxt < len(days), days[np.minimum(nxt, len(days) - 1)] - d, _FAR)
        since = np.where(prv >= 0, d - days[np.maximum(prv, 0)], _FAR)
        return {"is_holiday": (to_next == 0).astype(float), "days_to_holiday": np.minimum(to_next, _FAR),
                "days_since_holiday": np.minimum(since, _FAR)}

    def _stl(self, layout: _Layout, mean_y: np.ndarray) -> dict[str, np.ndarray]:
        season, trend, m = np.zeros(len(layout.order)), mean_y.copy(), self.season_length
        for g, (a, b) in enumerate(zip(layout.starts, layout.ends)):
            fitted = self.stl_.get(str(layout.uniques[g]))
            if fitted is None:
                continue
            k0, s, t = fitted
            r, n = layout.steps[a:b] - k0, len(s)
            inside = (r >= 0) & (r < n)
            rc = np.clip(r, 0, n - 1)
            season[a:b] = np.where(inside, s[rc], s[n - m + (r - (n - m)) % m])
            slope = (t[-1] - t[-m]) / (m - 1)
            trend[a:b] = np.where(inside, t[rc], np.where(r < 0, t[0], t[-1] + slope * (r - (n - 1))))
        out = {"stl_season": season}
        if self.use_stl == "season_trend":
            out["stl_trend"] = trend
        return out

    # -------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_names_"):
            raise NotFittedError("This LagFeaturizer is not fitted yet; call fit(history) first.")

    def _check_columns(self, frame: pd.DataFrame, where: str) -> None:
        need = [SERIES_ID, TIME] + ([TARGET] if where == "fit" else [])
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise DataError(f"LagFeaturizer.{where} needs the canonical column(s) {missing}; the frame has "
                            f"{list(frame.columns)}. Rename the series id, time and target to "
                            f"'{SERIES_ID}', '{TIME}', '{TARGET}'.")
        if where != "fit":
            absent = [c for c in self.covariates_ if c not in frame.columns and c not in self.unknown_]
            if absent:
                raise DataError(f"LagFeaturizer.{where}: known covariate column(s) {absent} are missing; "
                                "known covariates must be given for every row, future rows included.")

    def _layout(self, frame: pd.DataFrame) -> _Layout:
        layout = _Layout(frame[SERIES_ID].astype(str).to_numpy(), self._steps(frame[TIME]))
        layout.check_regular(frame[TIME], self.freq)
        return layout

    def _steps(self, ds: pd.Series) -> np.ndarray:
        """Whole time steps since the fit origin; a time off the freq grid is an error."""
        if len(ds) == 0:
            return np.zeros(0, dtype=np.int64)
        if self.integer_time_:
            if not pd.api.types.is_integer_dtype(ds):
                raise DataError(f"Column '{TIME}' was integer time at fit; got {ds.dtype} now.")
            diff = ds.to_numpy(np.int64) - self.origin_
            bad, steps = diff % self.step_ != 0, diff // self.step_
        else:
            if not pd.api.types.is_datetime64_any_dtype(ds):
                raise DataError(f"Column '{TIME}' was datetime at fit; got {ds.dtype} now.")
            idx = pd.DatetimeIndex(ds).as_unit("ns")
            if isinstance(self.offset_, pdo.Tick):
                delta = pd.Timedelta(self.offset_).value
                diff = idx.asi8 - self.origin_.value
                bad, steps = diff % delta != 0, diff // delta
            else:
                grid = pd.date_range(min(idx.min(), self.origin_), max(idx.max(), self.origin_), freq=self.offset_)
                pos = grid.get_indexer(idx)
                bad, steps = pos < 0, pos - grid.get_loc(self.origin_)
        if bad.any():
            raise DataError(f"Column '{TIME}' holds {ds.iloc[int(np.argmax(bad))]}, which is not on the "
                            f"freq={self.freq!r} grid starting at {self.origin_}; align the times to the frequency.")
        return np.asarray(steps, dtype=np.int64)

    def _target(self, frame: pd.DataFrame, layout: _Layout) -> np.ndarray:
        if TARGET not in frame.columns:
            return np.full(len(frame), np.nan)
        return pd.to_numeric(frame[TARGET], errors="coerce").to_numpy(float)[layout.order]

    def _padded(self, frame: pd.DataFrame, layout: _Layout) -> np.ndarray:
        if PADDED not in frame.columns:
            return np.zeros(len(frame), dtype=bool)
        return frame[PADDED].fillna(False).to_numpy(bool)[layout.order]

    def _numeric(self, frame: pd.DataFrame, column: str, layout: _Layout) -> np.ndarray:
        if column not in frame.columns:
            return np.full(len(frame), np.nan)
        try:
            return frame[column].to_numpy(dtype=float, na_value=np.nan)[layout.order]
        except (TypeError, ValueError) as exc:
            raise DataError(f"Covariate '{column}' was numeric at fit but holds non-numeric values now "
                            f"({frame[column].dtype}); cast it to a number.") from exc

    def _series_stat(self, layout: _Layout, column: str) -> np.ndarray:
        """Fit-time per-series mean of `column` per row; unseen series get the fit-time global mean."""
        stats = self.series_stats_[column].reindex(layout.uniques.astype(str))
        return layout.per_row(stats.fillna(self.global_stats_[column]).to_numpy(float))


def training_matrix(featurizer: LagFeaturizer, history: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(X, y, mask) of the rows a model can learn from: y observed, not padded, and at least one real lag.

    A real lag means an observed, non-padded y at or before t - min(lags) in the series, so no row is
    learned from fill values alone. `mask` is over history's rows (in order); X and y are the masked rows.
    The featurizer must already be fitted (normally on this same history).
    """
    featurizer._check_fitted()
    X = featurizer.transform(history)
    layout = featurizer._layout(history)
    yv = featurizer._target(history, layout)
    real = ~np.isnan(yv) & ~featurizer._padded(history, layout)
    count = np.cumsum(real)
    before_start = count[layout.start] - real[layout.start]
    lag = min(featurizer.lags_) if featurizer.lags_ else 1
    seen = _shift(count.astype(float), layout, lag, np.nan)
    has_lag = np.nan_to_num(seen - before_start, nan=0.0) > 0
    mask = np.zeros(len(history), dtype=bool)
    mask[layout.order] = real & has_lag
    return X[mask], history[TARGET].to_numpy(float)[mask], mask
