"""Per-series statistical forecasters under Azure's names, on pandas or spread over Spark.

Every model comes from a well-kept library: statsforecast (Naive, SeasonalNaive, Average,
SeasonalAverage, ExponentialSmoothing, AutoArima, Arimax) or prophet (Prophet). All the series
of one call (or of one Spark task) go through ONE ``StatsForecast.forecast`` call, because a
StatsForecast object per series costs more than the cheap models themselves.

Semantics worth knowing:

- ``SeasonalAverage`` follows Azure's definition, "carrying forward the average value of the
  latest season of data": a flat forecast equal to the mean of the last ``season_length`` points
  (statsforecast ``WindowAverage(window_size=season_length)``).
- A seasonal model (``needs_season``) on a series shorter than two seasons, or with
  ``season_length`` 1, falls back to its non-seasonal version: SeasonalNaive -> Naive,
  SeasonalAverage -> Average, AutoETS / AutoARIMA / Arimax / MSTL with ``season_length=1``. Two seasons
  is the least data from which a seasonal pattern can be estimated at all. MSTL models the detected
  season and, for sub-daily data (a season of whole days), the week too; a series needs two weeks then.
- Prediction intervals (``yhat_lo_L`` / ``yhat_hi_L`` for every level L) are always present.
  They are the library's own where it has them (statsforecast's model-based intervals; Prophet's
  simulated ones). SeasonalAverage has none in statsforecast, so its intervals come from the
  one-step in-sample residuals r_t = y_t - mean(y_{t-m..t-1}):
  ``yhat +- z_L * sigma * sqrt(step)`` with sigma = sqrt(mean(r_t^2)) and z_L the normal quantile.
- Missing ``y`` inside a series is imputed before fitting (statsforecast rejects NaN): linear
  interpolation within the series, then forward/backward fill. Padded rows are history.
- ``Arimax`` is AutoARIMA with the numeric covariates as regressors (categorical ones are
  ignored); their values over the horizon must be given as ``future_covariates``. With no numeric
  covariate it is plain AutoARIMA.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ..models import REGISTRY, STATISTICAL, ModelSpec
from ..models.statistical import ALIAS, PROPHET
from .settings import SERIES_ID, TARGET, TIME

DEFAULT_LEVELS = (80, 95)
_ALIAS = ALIAS
_FUTURE = "__future__"
_PROPHET_EPOCH = pd.Timestamp("2000-01-01")  # integer steps become days from here for Prophet


# ----------------------------------------------------------------------------- checks


def _spec(model: str) -> ModelSpec:
    """The registry entry of a statistical forecaster (models/statistical.py)."""
    names = [s.name for s in REGISTRY.for_task("forecasting") if s.kind == STATISTICAL]
    if model not in names:
        raise ConfigError(f"model={model!r} is not a statistical forecaster. Valid choices: {', '.join(names)}.")
    return REGISTRY.get(model, "forecasting")


def _build(spec: ModelSpec, season_length: int):
    return spec.build({"season_length": season_length}, "forecasting")


def _levels(levels: Sequence[int]) -> list[int]:
    bad = [lv for lv in levels if isinstance(lv, bool) or not isinstance(lv, (int, np.integer)) or not 0 < lv < 100]
    if bad or not len(levels):
        raise ConfigError(f"levels={list(levels)!r}: give int percentages between 1 and 99, e.g. (80, 95).")
    return sorted({int(lv) for lv in levels})


def _check_args(horizon: int, season_length: int) -> None:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ConfigError(f"horizon={horizon!r} must be an int >= 1 (the number of steps to forecast).")
    if isinstance(season_length, bool) or not isinstance(season_length, (int, np.integer)) or season_length < 1:
        raise ConfigError(f"season_length={season_length!r} must be an int >= 1 (1 means no seasonality).")


def _is_int_time(ds: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(ds)


def _check_freq(ds: pd.Series, freq: Any) -> None:
    int_freq = isinstance(freq, (int, np.integer)) and not isinstance(freq, bool)
    if _is_int_time(ds) != int_freq or (int_freq and freq < 1):
        raise ConfigError(f"freq={freq!r} does not fit the time column {TIME!r} ({ds.dtype}): integer time steps "
                          "need an int freq >= 1 (the step), datetimes a pandas offset alias such as 'MS' or 'D'.")


def numeric_covariates(frame: pd.DataFrame, covariates: Sequence[str]) -> list[str]:
    """The covariates Arimax can use: numeric or bool columns (categorical ones are ignored)."""
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise DataError(f"covariates {missing} are not columns of the history; present: {list(frame.columns)}.")
    return [c for c in covariates
            if pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]


# ----------------------------------------------------------------------------- data preparation


def _impute(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Linear interpolation inside each series, then ffill/bfill; only series with gaps pay for it."""
    for column in columns:
        values = frame[column].astype(float)
        if values.isna().any():
            gappy = frame[SERIES_ID].isin(frame.loc[values.isna(), SERIES_ID].unique())
            filled = (values[gappy].groupby(frame.loc[gappy, SERIES_ID], sort=False)
                      .transform(lambda s: s.interpolate(limit_area="inside").ffill().bfill()))
            values = values.copy()
            values[gappy] = filled
        frame[column] = values
    return frame


def _prepare(history: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in (SERIES_ID, TIME, TARGET) if c not in history.columns]
    if missing:
        raise DataError(f"history lacks the canonical columns {missing}; expected {SERIES_ID!r}, {TIME!r}, {TARGET!r}.")
    frame = history[[SERIES_ID, TIME, TARGET, *covariates]].copy()
    frame[SERIES_ID] = frame[SERIES_ID].astype(str)
    frame = frame.sort_values([SERIES_ID, TIME], kind="stable").reset_index(drop=True)
    frame = _impute(frame, [TARGET])
    empty = frame.loc[frame[TARGET].isna(), SERIES_ID].unique()
    if len(empty):
        raise DataError(f"{len(empty)} series have no observed {TARGET!r} at all (e.g. {list(empty[:3])}); "
                        "drop them before forecasting.")
    frame = _impute(frame, covariates)
    if covariates:  # never observed in a series: 0 there (per series, so Spark buckets agree with pandas)
        frame[list(covariates)] = frame[list(covariates)].fillna(0.0)
    return frame


def future_grid(last: pd.Series, horizon: int, freq: Any) -> pd.DataFrame:
    """The ``horizon`` time steps after each series' last time (``last`` is indexed by series id)."""
    ids = np.repeat(last.index.to_numpy(), horizon)
    steps = np.tile(np.arange(1, horizon + 1), len(last))
    base = np.repeat(last.to_numpy(), horizon)
    if isinstance(freq, (int, np.integer)):
        ds = base + steps * int(freq)
    else:
        offset = pd.tseries.frequencies.to_offset(freq)
        base_idx = pd.DatetimeIndex(base)
        ds = np.empty(len(base), dtype="datetime64[ns]")
        for k in range(1, horizon + 1):
            mask = steps == k
            ds[mask] = (base_idx[mask] + k * offset).to_numpy()
    return pd.DataFrame({SERIES_ID: ids, TIME: ds})


def _future_x(frame: pd.DataFrame, future: pd.DataFrame | None, covariates: list[str],
              horizon: int, freq: Any) -> pd.DataFrame:
    """Covariates over the horizon, one row per series and step; missing rows are an error."""
    if future is None:
        raise ConfigError(f"Arimax uses the covariates {covariates} as regressors, so it needs their values over the "
                          f"horizon: pass future_covariates with columns {SERIES_ID!r}, {TIME!r}, {covariates}.")
    absent = [c for c in (SERIES_ID, TIME, *covariates) if c not in future.columns]
    if absent:
        raise DataError(f"future_covariates lacks the columns {absent}.")
    grid = future_grid(frame.groupby(SERIES_ID, sort=False)[TIME].last(), horizon, freq)
    fut = future[[SERIES_ID, TIME, *covariates]].copy()
    fut[SERIES_ID] = fut[SERIES_ID].astype(str)
    merged = grid.merge(fut.drop_duplicates([SERIES_ID, TIME]), on=[SERIES_ID, TIME], how="left", indicator=True)
    lacking = merged.loc[merged["_merge"] == "left_only", SERIES_ID].unique()
    if len(lacking):
        raise DataError(f"future_covariates has no row for some of the {horizon} horizon steps of {len(lacking)} "
                        f"series (e.g. {list(lacking[:3])}); give one row per series and step after its last {TIME!r}.")
    merged = merged.drop(columns="_merge")
    if merged[covariates].isna().any().any():  # a gap in a known future value: carry the last one forward
        both = pd.concat([frame[[SERIES_ID, TIME, *covariates]].assign(_f=False), merged.assign(_f=True)])
        both = both.sort_values([SERIES_ID, TIME], kind="stable")
        both[covariates] = both.groupby(SERIES_ID, sort=False)[covariates].ffill()
        merged = both[both["_f"]].drop(columns="_f").reset_index(drop=True)
    return merged


# ----------------------------------------------------------------------------- models


def _statsforecast(frame: pd.DataFrame, model: Any, horizon: int, freq: Any, levels: list[int],
                   x_future: pd.DataFrame | None, n_jobs: int) -> pd.DataFrame:
    """ONE StatsForecast call for every series in ``frame``; columns renamed to yhat / yhat_lo_L / yhat_hi_L."""
    from statsforecast import StatsForecast
    from statsforecast.models import WindowAverage

    native = not isinstance(model, WindowAverage)
    sf = StatsForecast(models=[model], freq=freq, n_jobs=n_jobs)
    out = sf.forecast(df=frame, h=horizon, X_df=x_future, level=levels if native else None)
    out = out.rename(columns={_ALIAS: "yhat", **{f"{_ALIAS}-{side}-{lv}": f"yhat_{side}_{lv}"
                                                 for lv in levels for side in ("lo", "hi")}})
    if not native:
        sigma = _window_residual_sigma(frame, model.window_size)
        out = _residual_intervals(out, sigma, levels)
    return out


def _window_residual_sigma(frame: pd.DataFrame, window: int) -> pd.Series:
    """RMS of the one-step in-sample residuals y_t - mean(y_{t-window..t-1}), per series."""
    y = frame.groupby(SERIES_ID, sort=False)[TARGET]
    fitted = y.transform(lambda s: s.rolling(window).mean().shift(1))
    return ((frame[TARGET] - fitted) ** 2).groupby(frame[SERIES_ID], sort=False).mean().pow(0.5)


def _residual_intervals(out: pd.DataFrame, sigma: pd.Series, levels: list[int]) -> pd.DataFrame:
    from scipy.stats import norm

    step = out.groupby(SERIES_ID, sort=False).cumcount().to_numpy() + 1
    spread = out[SERIES_ID].map(sigma).to_numpy() * np.sqrt(step)
    for lv in levels:
        z = norm.ppf(0.5 + lv / 200)
        out[f"yhat_lo_{lv}"] = out["yhat"] - z * spread
        out[f"yhat_hi_{lv}"] = out["yhat"] + z * spread
    return out


def _prophet(frame: pd.DataFrame, horizon: int, freq: Any, season_length: int, levels: list[int]) -> pd.DataFrame:
    """One Prophet per series. Point forecast from ``predict`` without sampling; every level's interval
    from ONE set of posterior-predictive draws (the percentiles Prophet itself would report for that
    ``interval_width``), so one fit and one sampling pass serve all levels. Integer time steps are mapped
    to consecutive synthetic days; calendar seasonalities are then meaningless, so they are replaced by
    one seasonality of period ``season_length``."""
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "plotly failed": we never plot
    from cmdstanpy.utils import get_logger
    from prophet import Prophet

    get_logger().setLevel(logging.WARNING)  # through get_logger: its first call would reset the level to DEBUG
    logging.getLogger("prophet").setLevel(logging.WARNING)

    integer = _is_int_time(frame[TIME])
    step = int(freq) if integer else None
    parts = []
    for uid, series in frame.groupby(SERIES_ID, sort=False):
        last = series[TIME].iloc[-1]
        if integer:
            origin = series[TIME].iloc[0]
            days = pd.to_timedelta((series[TIME] - origin) // step, unit="D")
            fit_df = pd.DataFrame({"ds": _PROPHET_EPOCH + days, "y": series[TARGET].to_numpy()})
            future = pd.DataFrame({"ds": fit_df["ds"].iloc[-1] + pd.to_timedelta(np.arange(1, horizon + 1), unit="D")})
            out_ds = last + step * np.arange(1, horizon + 1)
            model = Prophet(yearly_seasonality=False, weekly_seasonality=False, daily_seasonality=False)
            if season_length > 1:
                model.add_seasonality("season", period=season_length, fourier_order=min(10, max(1, season_length // 2)))
        else:
            fit_df = pd.DataFrame({"ds": series[TIME].to_numpy(), "y": series[TARGET].to_numpy()})
            out_ds = future_grid(pd.Series([last], index=[uid]), horizon, freq)[TIME].to_numpy()
            future = pd.DataFrame({"ds": out_ds})
            model = Prophet()
        model.fit(fit_df)
        samples_wanted, model.uncertainty_samples = model.uncertainty_samples, 0
        yhat = model.predict(future)["yhat"].to_numpy()
        model.uncertainty_samples = samples_wanted
        state = np.random.get_state()  # Prophet draws from numpy's global generator: seed it, then restore
        np.random.seed(0)
        try:
            draws = model.predictive_samples(future)["yhat"]
        finally:
            np.random.set_state(state)
        part = pd.DataFrame({SERIES_ID: uid, TIME: out_ds, "yhat": yhat})
        for lv in levels:
            part[f"yhat_lo_{lv}"] = model.percentile(draws, 50 - lv / 2, axis=1)
            part[f"yhat_hi_{lv}"] = model.percentile(draws, 50 + lv / 2, axis=1)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


# ----------------------------------------------------------------------------- public API


def output_columns(levels: Sequence[int]) -> list[str]:
    return [SERIES_ID, TIME, "yhat", *[f"yhat_{side}_{lv}" for lv in _levels(levels) for side in ("lo", "hi")]]


def forecast_series(history: pd.DataFrame, model: str, horizon: int, freq: Any, season_length: int,
                    levels: Sequence[int] = DEFAULT_LEVELS, future_covariates: pd.DataFrame | None = None,
                    covariates: Sequence[str] = (), n_jobs: int = 1) -> pd.DataFrame:
    """Forecast ``horizon`` steps after each series' last time with one statistical model.

    Returns unique_id, ds, yhat and yhat_lo_L / yhat_hi_L per level, sorted by unique_id, ds.
    ``n_jobs`` is statsforecast's process count (1 inside a Spark task).
    """
    spec = _spec(model)
    levels = _levels(levels)
    _check_args(horizon, season_length)
    covs = numeric_covariates(history, covariates) if spec.uses_covariates else []
    frame = _prepare(history, covs)
    columns = output_columns(levels)
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=frame[c].dtype if c in frame else float) for c in columns})
    _check_freq(frame[TIME], freq)
    x_future = _future_x(frame, future_covariates, covs, horizon, freq) if covs else None
    if _build(spec, 1) is PROPHET:
        return _prophet(frame, horizon, freq, season_length, levels)[columns]

    sizes = frame.groupby(SERIES_ID, sort=False)[TIME].transform("size")
    longest = max(spec.seasons(season_length)) if spec.seasons else season_length
    seasonal = sizes >= 2 * longest if spec.needs_season and season_length > 1 else sizes < 0
    parts = []
    for mask, m in ((seasonal, season_length), (~seasonal, 1)):
        if mask.any():
            part = frame[mask]
            x_part = x_future[x_future[SERIES_ID].isin(part[SERIES_ID].unique())] if x_future is not None else None
            parts.append(_statsforecast(part, _build(spec, m), horizon, freq, levels, x_part, n_jobs))
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out[SERIES_ID] = out[SERIES_ID].astype(str)
    return out.sort_values([SERIES_ID, TIME], kind="stable").reset_index(drop=True)[columns]


def spark_forecast(spark, history, model: str, horizon: int, freq: Any, season_length: int,
                   levels: Sequence[int] = DEFAULT_LEVELS, future_covariates=None, covariates: Sequence[str] = (),
                   n_buckets: int | None = None) -> pd.DataFrame:
    """``forecast_series`` with the series spread over Spark tasks; the same output (pandas).

    Series are hashed into ``n_buckets`` partitions (``repartition(n_buckets, unique_id)``; default 4x
    the default parallelism, so an expensive bucket does not leave cores idle at the end) and each
    task runs ONE ``forecast_series`` (statsforecast with n_jobs=1) over its whole bucket. A hash
    repartition gives exactly one bucket per task; ``groupBy(bucket)`` or ``repartitionByRange`` put
    two buckets in one task here and then that task ran twice as long. ``history`` and
    ``future_covariates`` may be pandas or Spark DataFrames.
    """
    import pyspark.sql.functions as F

    spec = _spec(model)
    levels = _levels(levels)
    _check_args(horizon, season_length)
    head = history if isinstance(history, pd.DataFrame) else history.limit(1000).toPandas()
    covs = numeric_covariates(head, covariates) if spec.uses_covariates else []
    if covs and future_covariates is None:
        _future_x(head, None, covs, horizon, freq)  # raises the ConfigError naming the covariates
    _check_freq(head[TIME], freq)

    sdf = _to_spark(spark, history, covs).withColumn(_FUTURE, F.lit(False))
    if covs:
        fut = _to_spark(spark, future_covariates, covs, target=False).withColumn(_FUTURE, F.lit(True))
        sdf = sdf.unionByName(fut.withColumn(TARGET, F.lit(None).cast("double")))
    n_buckets = int(n_buckets or 4 * spark.sparkContext.defaultParallelism)
    sdf = sdf.repartition(n_buckets, SERIES_ID)  # exactly n_buckets tasks; a series never spans two

    time_type = sdf.schema[TIME].dataType.simpleString()
    columns = output_columns(levels)
    schema = ", ".join(f"`{c}` {'string' if c == SERIES_ID else time_type if c == TIME else 'double'}" for c in columns)

    def run_bucket(batches):
        frames = [batch for batch in batches if len(batch)]
        if not frames:
            return
        pdf = pd.concat(frames, ignore_index=True)  # the whole bucket: one StatsForecast call
        is_future = pdf[_FUTURE].to_numpy(dtype=bool)
        hist = pdf.loc[~is_future].drop(columns=_FUTURE)
        future = pdf.loc[is_future, [SERIES_ID, TIME, *covs]] if covs else None
        yield forecast_series(hist, model, horizon, freq, season_length, levels, future, covs, n_jobs=1)

    result = sdf.mapInPandas(run_bucket, schema).toPandas()
    result[SERIES_ID] = result[SERIES_ID].astype(str)
    if not _is_int_time(result[TIME]):
        result[TIME] = result[TIME].astype("datetime64[ns]")
    return result.sort_values([SERIES_ID, TIME], kind="stable").reset_index(drop=True)[columns]


def _to_spark(spark, frame, covs: list[str], target: bool = True):
    """Only the columns the model needs; datetimes as TIMESTAMP_NTZ so no time zone shifts them."""
    from pyspark.sql import types as T

    names = [SERIES_ID, TIME, *([TARGET] if target else []), *covs]
    if not isinstance(frame, pd.DataFrame):
        absent = [c for c in names if c not in frame.columns]
        if absent:
            raise DataError(f"the Spark DataFrame lacks the columns {absent}.")
        return frame.select(*names).withColumn(SERIES_ID, frame[SERIES_ID].cast("string"))
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise DataError(f"the frame lacks the columns {absent}.")
    pdf = frame[names].copy()
    pdf[SERIES_ID] = pdf[SERIES_ID].astype(str)
    integer = _is_int_time(pdf[TIME])
    if integer:
        pdf[TIME] = pdf[TIME].astype("int64")
    for column in names[2:]:
        pdf[column] = pdf[column].astype(float)
    fields = [T.StructField(SERIES_ID, T.StringType()),
              T.StructField(TIME, T.LongType() if integer else T.TimestampNTZType())]
    fields += [T.StructField(c, T.DoubleType()) for c in names[2:]]
    return spark.createDataFrame(pdf, schema=T.StructType(fields))
