"""Forecasting data -> the canonical long frame (unique_id, ds, y) on a regular grid per series.

Spark does the whole-data work in two jobs over one cached projection, so a big table is read once:
  A. scan: lag() over each series -> a small histogram of time steps (frequency, duplicates, series count),
     with the parse checks (bad/null times, non-numeric targets, null ids) and calendar counts in its grand total;
  B. grid: (snap to freq +) aggregate, fill each series' gaps with applyInPandas, one Arrow toPandas.
Short series, seasonality and the guardrails then work on the collected frame, which the models need anyway.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyspark.sql.functions as F
from pandas.tseries import offsets as O
from pandas.tseries.frequencies import to_offset
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import types as T

from ..data.guardrails import ALERTED, DONE, PASSED, Guardrail
from ..errors import ConfigError, DataError
from ..spark_utils import INTEGER_TYPES, NUMERIC_TYPES, col, mode_of, try_double
from .settings import SERIES_ID, TARGET, TIME, ForecastingParameters
from .store import STORED_ROWS, HistoryStore, write_panel

SINGLE_SERIES = "__single__"
PADDED = "_padded"
RESERVED = (SERIES_ID, TIME, TARGET, PADDED)
FREQ_MATCH = 0.9  # share of time steps on the frequency below which 'Frequency detection' alerts
MAX_DELTA_KEYS = 5000  # distinct time steps brought to the driver; regular data has a handful
ROLLUP_D_ONLY = 1  # grouping_id of the rollup level that groups by d alone
DETAILS = 20  # per-series rows kept in a guardrail's details
ROWS_PER_BUCKET = 200_000  # series rows per pandas call of the gap filling (memory bound on a worker)
SAMPLE_MARGIN = 0.9  # a large panel's search sample aims below the budget: series lengths vary
MIN_SEARCH_SERIES = 5  # a large panel whose sample would hold fewer whole series is refused
SAMPLE_BUCKETS = 1_000_000
_GAP, _OFFGRID, _STATE, _BAD_Y, _NULL_ID = "_gap", "_offgrid", "_time_state", "_bad_target", "_null_id"
_BUCKET = "_bucket"
_DAY_US = 86_400_000_000
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # Spark dayofweek 1..7
_TIME_TYPES = (T.TimestampType, T.TimestampNTZType, T.DateType, T.StringType, *INTEGER_TYPES)
_END_ANCHORED = (O.MonthEnd, O.QuarterEnd, O.YearEnd, O.Week, O.BusinessMonthEnd, O.BQuarterEnd, O.BYearEnd)


@dataclass
class SeriesData:
    """The checked, regular data every forecasting module works on (see load_series)."""

    frame: pd.DataFrame  # unique_id, ds, y, covariates, id columns, _padded; sorted, gaps filled
    freq: str | int
    season_length: int
    id_columns: list[str]
    covariates: list[str]
    guardrails: list[Guardrail]
    n_series: int
    dropped_series: list[str]
    padded_series: list[str]
    integer_time: bool
    # large-panel mode: `frame` holds the searched sample of series; every series is in `store`
    # one row per series the model forecasts (searched or short): unique_id, length, first, last, id columns
    index: pd.DataFrame | None = None
    store: HistoryStore | None = None
    # the series left out of the search as too short (short_series_handling 'drop'/'auto'): still forecast
    short_frame: pd.DataFrame | None = None
    min_length: int = 0  # the steps the validation needs (what 'short' means)

    @property
    def n_searched_series(self) -> int:
        return int(self.frame[SERIES_ID].nunique())


@dataclass
class _Step:
    """A frequency as something a time delta can be compared with: microseconds, months or int steps."""

    kind: str  # 'us' | 'week' | 'month' | 'int'
    n: int


@dataclass
class _Deltas:
    table: pd.DataFrame  # d, mon, n for positive steps (the most frequent MAX_DELTA_KEYS)
    n_series: int
    dup_rows: int
    dup_example: Any
    pairs: int  # positive steps in all
    sum_d: float
    sum_mon: float


def series_key(frame: pd.DataFrame, id_columns: list[str]) -> pd.Series:
    """The unique_id of each row, built exactly as Spark builds it in load_series (values joined by '|')."""
    if not id_columns:
        return pd.Series(SINGLE_SERIES, index=frame.index, dtype=object)
    parts = [frame[c].map(lambda v: str(v).lower() if isinstance(v, (bool, np.bool_)) else str(v)).astype(object)
             for c in id_columns]  # object even when empty (map keeps an empty column's dtype)
    key = parts[0]
    for part in parts[1:]:
        key = key + "|" + part
    return key.astype(object)


def min_series_length(horizon: int, n_cross_validations: int, cv_step: int) -> int:
    """Rows a series needs to join the search: a horizon of history and a horizon to score at the last
    origin. A longer series joins every earlier origin it has a horizon of history for (cv.split), so the
    number of origins adapts per series instead of one rule dropping every series short of all of them."""
    for name, value in (("forecast_horizon", horizon), ("cv_step_size", cv_step)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name}={value!r} must be an int >= 1.")
    return 2 * int(horizon)


def _available(columns: list[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:40])
    return shown + (f", ... ({len(columns)} columns)" if len(columns) > 40 else "")


def check_series_schema(df: DataFrame, label: str, settings: ForecastingParameters) -> None:
    """Column-level checks from the schema alone (no Spark job), so typos fail in milliseconds."""
    columns = list(df.columns)
    types = {f.name: f.dataType for f in df.schema.fields}
    time, ids = settings.time_column_name, settings.id_columns
    if time is None:
        raise ConfigError("time_column_name is required for forecasting: name the column that holds the time "
                          f"(available columns: {_available(columns)}).")
    if time not in types:
        raise DataError(f"time_column_name {time!r} is not a column of the training data; "
                        f"available columns: {_available(columns)}.")
    missing = [c for c in ids if c not in types]
    if missing:
        raise DataError(f"time_series_id_column_names {missing} not found in the training data; "
                        f"available columns: {_available(columns)}.")
    if label not in types:
        raise DataError(f"label_column_name {label!r} is not a column of the training data; "
                        f"available columns: {_available(columns)}.")
    if label == time or label in ids:
        role = "time_column_name" if label == time else "time_series_id_column_names"
        raise ConfigError(f"label_column_name {label!r} is also the {role}; the target must be its own column.")
    unknown = [c for c in settings.unknown_features if c not in types]
    if unknown:
        raise DataError(f"features_unknown_at_forecast_time {unknown} not found in the training data; "
                        f"available columns: {_available(columns)}.")
    if not isinstance(types[time], _TIME_TYPES):
        raise DataError(f"Time column {time!r} has type {types[time].simpleString()}; it must hold timestamps, dates, "
                        "date strings such as 'YYYY-MM-DD' or integer time steps. Convert it before training.")
    if not isinstance(types[label], (*NUMERIC_TYPES, T.StringType, T.BooleanType)):
        raise DataError(f"Target column {label!r} has type {types[label].simpleString()}; forecasting needs numbers.")
    kept = [c for c in columns if c not in (time, label) and not (ids == [SERIES_ID] and c == SERIES_ID)]
    clashes = [c for c in kept if c in RESERVED]
    if clashes:
        raise DataError(f"Column(s) {clashes} clash with the canonical forecasting columns {list(RESERVED)}; "
                        "rename them (or use them as the time, label or single id column).")


def load_series(spark: SparkSession, df: DataFrame, label: str, settings: ForecastingParameters,
                n_cross_validations: int, cv_step: int, max_rows_in_memory: int | None = None,
                seed: int = 0) -> SeriesData:
    """Check, parse, aggregate and regularise the user's series; see the module docstring for the jobs.

    max_rows_in_memory: the driver's budget for the filled panel, checked before it is collected. A
    panel past it is large: a seeded sample of whole series is collected for the search, and every
    series is stored as Parquet by Spark tasks (store.write_panel) for the final model."""
    check_series_schema(df, label, settings)
    time, ids = settings.time_column_name, settings.id_columns
    types = {f.name: f.dataType for f in df.schema.fields}
    integer_time = isinstance(types[time], INTEGER_TYPES)
    covariates = [c for c in df.columns if c not in (time, label, *ids)]
    id_kept = [c for c in ids if c != SERIES_ID]
    min_len = min_series_length(settings.horizon, n_cross_validations, cv_step)
    user_freq = _freq_setting(settings.freq, integer_time, time)
    agg = settings.target_aggregation_function
    need = (f"the {min_len} time steps (a horizon of history and one to validate, forecast_horizon="
            f"{settings.horizon}) that the last validation origin needs")

    parsed = _project(df, label, time, ids, id_kept, covariates, types, integer_time).cache()
    try:
        stats, deltas = _scan(parsed, integer_time)  # job A (fills the cache)
        _check_stats(df, stats, label, time, ids)
        if deltas.dup_rows and agg is None:
            _raise_duplicates(df, deltas, time, label, ids, stats["rows"])
        freq = user_freq if user_freq is not None else _detect_freq(deltas, stats, integer_time, time)
        step = _step_of(freq, integer_time)
        freq_guardrail, share = _frequency_guardrail(freq, step, deltas, user_freq is not None)
        _check_grid_size(freq, step, deltas, stats["rows"])
        fraction, limit = _sample_fraction(freq, step, deltas, stats["rows"], 3 + len(covariates) + len(id_kept),
                                    max_rows_in_memory)
        frame = parsed.select(SERIES_ID, TIME, TARGET, *[col(c) for c in covariates + id_kept])
        snapped = agg is not None and (step is None or step.kind in ("month", "week") or share < 1.0)
        if snapped:
            frame = _snap(frame, freq, step, integer_time)
            if share < FREQ_MATCH:  # data finer than freq, as asked: not an irregularity to alert on
                freq_guardrail = Guardrail("Frequency detection", DONE, f"The data were aggregated onto frequency "
                                           f"{freq!r} with {agg!r}.", freq_guardrail.details)
        if agg is not None and (snapped or deltas.dup_rows):
            frame = _aggregate(frame, agg, covariates, id_kept)
        n_buckets = _n_buckets(spark, stats["rows"], deltas.n_series)
        if fraction is None:
            pdf = _fill_and_collect(frame, freq, integer_time, id_kept, n_buckets)  # job B
            store = index = None
        else:
            pdf = _within(_fill_and_collect(frame.where(_sampled(seed, fraction)), freq, integer_time, id_kept,
                                            n_buckets), limit)
            if pdf.empty:
                raise DataError(f"The sample of {fraction:.2%} of the {deltas.n_series:,} series for the search is "
                                "empty. Fix: raise max_rows_in_memory or change the seed.")
            lengths = pdf[~pdf[_OFFGRID]].groupby(SERIES_ID).size()
            action = _short_action(settings.short_series_handling_configuration,
                                   int((lengths < min_len).sum()), len(lengths))
            if action is None and (lengths < min_len).any():  # before the full panel is stored
                _refuse_short(lengths[lengths < min_len], need)
            store, index = _store_panel(frame, freq, integer_time, covariates, id_kept, n_buckets, min_len, action)
    finally:
        parsed.unpersist()

    offgrid = pdf[pdf[_OFFGRID]]
    if len(offgrid):
        _raise_offgrid(offgrid, freq, time)
    if index is not None and index["offgrid"].sum():
        off = index[index["offgrid"] > 0]
        _raise_offgrid(pd.DataFrame({SERIES_ID: off[SERIES_ID], TIME: off["offgrid_example"]}), freq, time)
    pdf = _canonical(pdf.drop(columns=_OFFGRID), integer_time)
    pdf[PADDED] = False

    observed = int((~pdf[_GAP]).sum()) if index is None else int(index["observed"].sum())
    aggregation = _aggregation_guardrail(agg, stats["rows"], observed)
    before = pdf
    pdf, short_guardrail, dropped, padded = _handle_short(pdf, min_len, settings.short_series_handling_configuration,
                                                          need, freq, integer_time, covariates, id_kept)
    short_frame = before[before[SERIES_ID].isin(dropped)].drop(columns=_GAP)
    n_series = int(pdf[SERIES_ID].nunique())
    guardrails = [freq_guardrail, _id_guardrail(n_series, ids), aggregation, _gaps_guardrail(pdf, freq, index),
                  _missing_target_guardrail(pdf, label), short_guardrail]
    if index is not None:
        short_guardrail, dropped, padded = _stored_short(index, min_len, settings.short_series_handling_configuration,
                                                         need)
        n_series = store.n_series - len(dropped)  # dropped series are stored too: the fallback forecasts them
        guardrails[1], guardrails[-1] = _id_guardrail(n_series, ids), short_guardrail
        guardrails.append(_large_panel_guardrail(store, int(pdf[SERIES_ID].nunique()), len(pdf), max_rows_in_memory))
        index = index[index[STORED_ROWS] > 0][[SERIES_ID, "length", "first", "last", *id_kept]].reset_index(drop=True)
    frame_out = pdf.drop(columns=_GAP).sort_values([SERIES_ID, TIME], kind="stable", ignore_index=True)
    columns = [SERIES_ID, TIME, TARGET, *covariates, *id_kept, PADDED]
    frame_out = frame_out[columns]
    short_frame = short_frame.sort_values([SERIES_ID, TIME], kind="stable", ignore_index=True)[columns]
    if index is None:
        index = _series_index(pd.concat([frame_out, short_frame], ignore_index=True), id_kept)
    season, season_guardrail = _season_length(settings, freq, integer_time, frame_out)
    guardrails.append(season_guardrail)
    return SeriesData(frame_out, freq, season, list(ids), covariates, guardrails, n_series, dropped, padded,
                      integer_time, index, store, short_frame, min_len)


# ---- projection and job A ---------------------------------------------------------------------------

def _project(df: DataFrame, label: str, time: str, ids: list[str], id_kept: list[str], covariates: list[str],
             types: dict, integer_time: bool) -> DataFrame:
    """One projection holding everything later jobs need, plus the flags job A counts."""
    raw = col(time)
    if integer_time:
        ds = raw.cast("long")
    elif isinstance(types[time], T.StringType):
        ds = F.try_to_timestamp(raw)
    else:
        ds = raw.cast("timestamp")
    state = F.when(raw.isNull(), 1).when(ds.isNull(), 2).otherwise(0)
    y = try_double(label)
    uid = F.lit(SINGLE_SERIES) if not ids else F.concat_ws("|", *[col(c).cast("string") for c in ids])
    null_id = F.lit(False)
    for c in ids:
        null_id = null_id | col(c).isNull()
    covs = []
    for c in covariates:
        if isinstance(types[c], (*NUMERIC_TYPES, T.BooleanType)):
            v = col(c).cast("double")
            covs.append(F.when(F.isnan(v), F.lit(None).cast("double")).otherwise(v).alias(c))
        else:
            covs.append(col(c).alias(c))
    return df.select(
        uid.alias(SERIES_ID), ds.alias(TIME),
        F.when(F.isnan(y), F.lit(None).cast("double")).otherwise(y).alias(TARGET),
        *covs, *[col(c).alias(c) for c in id_kept],
        state.alias(_STATE), (col(label).isNotNull() & (y.isNull() | (F.abs(y) == F.lit(float("inf"))))).alias(_BAD_Y),
        null_id.alias(_NULL_ID),
    )


def _count(cond):
    return F.sum(cond.cast("long"))


def _scan(parsed: DataFrame, integer_time: bool) -> tuple[dict[str, int], _Deltas]:
    """Job A: lag() over each series, then rows counted by time step (d, months) in one grouping set and,
    in the grand-total set, the parse checks and the calendar counts that name a frequency."""
    prev = F.lag(TIME).over(Window.partitionBy(SERIES_ID).orderBy(TIME))
    lagged = parsed.select(SERIES_ID, TIME, _STATE, _BAD_Y, _NULL_ID, prev.alias("prev"))
    ds, pv = F.col(TIME), F.col("prev")
    if integer_time:
        d, mon = ds - pv, F.lit(None).cast("long")
    else:
        d = F.unix_micros(ds) - F.unix_micros(pv)
        mon = (F.year(ds) * 12 + F.month(ds)) - (F.year(pv) * 12 + F.month(pv))
    positive = F.col("d") > 0
    aggs = [F.count(F.lit(1)).alias("n"), F.first(F.struct(SERIES_ID, TIME)).alias("ex"), F.grouping_id().alias("gid"),
            _count(positive).alias("pairs"), F.sum(F.when(positive, F.col("d").cast("double"))).alias("sum_d"),
            F.sum(F.when(positive, F.col("mon").cast("double"))).alias("sum_mon"),
            _count(F.col(_STATE) == 1).alias("null_time"), _count(F.col(_STATE) == 2).alias("bad_time"),
            _count(F.col(_BAD_Y)).alias("bad_target"), _count(F.col(_NULL_ID)).alias("null_id")]
    if not integer_time:
        aggs += [_count(F.dayofmonth(ds) == 1).alias("day1"),
                 _count(F.to_date(ds) == F.last_day(ds)).alias("month_end")]
        aggs += [_count(F.dayofweek(ds) == k).alias(f"wd{k}") for k in range(1, 8)]
        aggs += [_count(F.month(ds) == m).alias(f"m{m}") for m in range(1, 13)]
    # GROUPING SETS ((d, mon), ()) as a rollup without its (d) level: DataFrame.groupingSets is Spark 4 only.
    rows = (lagged.select("*", d.alias("d"), mon.alias("mon")).rollup("d", "mon").agg(*aggs)
            .where(F.col("gid") != ROLLUP_D_ONLY).orderBy(F.desc("gid"), F.desc("n")).limit(MAX_DELTA_KEYS + 1)
            .collect())
    if not rows:  # grouping sets give no grand total over no rows
        raise DataError("The training data has no rows; forecasting needs at least one series.")
    head, keys = rows[0], rows[1:]  # the grand total (gid 3) sorts first
    stats = {k: int(head[k] or 0) for k in head.asDict() if k not in ("d", "mon", "ex", "gid", "sum_d", "sum_mon")}
    stats["rows"] = stats.pop("n")
    table = pd.DataFrame([(r["d"], r["mon"], r["n"]) for r in keys if r["d"] is not None and r["d"] > 0],
                         columns=["d", "mon", "n"])
    first, dup = [r for r in keys if r["d"] is None], [r for r in keys if r["d"] == 0]
    deltas = _Deltas(table, int(first[0]["n"]) if first else 0, int(dup[0]["n"]) if dup else 0,
                     dup[0]["ex"] if dup else None, stats["pairs"], float(head["sum_d"] or 0),
                     float(head["sum_mon"] or 0))
    return stats, deltas


def _check_stats(df: DataFrame, stats: dict[str, int], label: str, time: str, ids: list[str]) -> None:
    """Fail fast on what no later step can repair; examples come from small error-path queries."""
    if stats["null_time"]:
        raise DataError(f"Time column {time!r} is empty in {stats['null_time']} row(s). "
                        "Fix: fill or drop those rows; every row needs a time.")
    if stats["bad_time"]:
        bad = col(time).isNotNull() & F.try_to_timestamp(col(time)).isNull()
        examples = [r[0] for r in df.filter(bad).select(col(time)).limit(3).collect()]
        raise DataError(f"Time column {time!r} has {stats['bad_time']} value(s) that do not parse as timestamps, "
                        f"e.g. {examples}. Fix: write the times in a parsable format such as 'YYYY-MM-DD' or "
                        "'YYYY-MM-DD HH:MM:SS', or convert the column to a timestamp/date (or integer) type.")
    if stats["bad_target"]:
        value = try_double(label)
        bad = col(label).isNotNull() & (value.isNull() | (F.abs(value) == F.lit(float("inf"))))
        examples = [r[0] for r in df.filter(bad).select(col(label)).limit(3).collect()]
        raise DataError(f"Target column {label!r} has {stats['bad_target']} value(s) that are not finite numbers, "
                        f"e.g. {examples}. Fix: make them numeric and finite, or empty where the value is missing.")
    if stats["null_id"]:
        per_column = df.agg(*[_count(col(c).isNull()).alias(str(i)) for i, c in enumerate(ids)]).first()
        counts = {c: int(per_column[str(i)]) for i, c in enumerate(ids) if per_column[str(i)]}
        raise DataError(f"Series id column(s) have empty values in {counts} row(s). Fix: fill them (e.g. with "
                        "'unknown') or drop those rows; every row must belong to a series.")


def _raise_duplicates(df: DataFrame, deltas: _Deltas, time: str, label: str, ids: list[str], n_rows: int) -> None:
    uid, t = deltas.dup_example[SERIES_ID], deltas.dup_example[TIME]
    where = ", ".join(f"{c}={v}" for c, v in zip(ids, uid.split("|"))) if ids else ""
    example = f"{where + ', ' if where else ''}{time}={t}"
    msg = (f"{deltas.dup_rows} row(s) repeat the (series ids, time) of another row, e.g. {example}. "
           "Fix: set target_aggregation_function='sum'|'mean'|'max'|'min' to aggregate them")
    if ids:
        raise DataError(msg + ", or add the missing columns to time_series_id_column_names.")
    found = _id_candidates(df, time, label, n_rows)
    hint = (f" Time series ID detection: the columns {found} make (ids, {time}) unique; pass "
            f"time_series_id_column_names={found}.") if found else ""
    raise DataError(msg + ", or name the columns that identify each series in time_series_id_column_names." + hint)


def _id_candidates(df: DataFrame, time: str, label: str, n_rows: int) -> list[str]:
    """Low-cardinality string/int columns whose combination with the time is unique (error path only)."""
    fields = [f.name for f in df.schema.fields if f.name not in (time, label)
              and isinstance(f.dataType, (T.StringType, T.BooleanType, *INTEGER_TYPES))]
    if not fields:
        return []
    approx = df.agg(*[F.approx_count_distinct(col(c)).alias(str(i)) for i, c in enumerate(fields)]).first()
    low = sorted((approx[str(i)], c) for i, c in enumerate(fields) if 1 < approx[str(i)] <= max(2, n_rows // 2))[:4]
    names = [c for _, c in low]
    subsets = [s for k in (1, 2, 3) for s in itertools.combinations(names, k)]
    if not subsets:
        return []
    exact = df.agg(*[F.count_distinct(*[col(c) for c in s], col(time)).alias(str(i))
                     for i, s in enumerate(subsets)]).first()
    unique = [list(s) for i, s in enumerate(subsets) if exact[str(i)] == n_rows]
    return unique[0] if unique else []


# ---- frequency ---------------------------------------------------------------------------------------

def _freq_setting(freq: str | int | None, integer_time: bool, time: str) -> str | int | None:
    if freq is None:
        return None
    if integer_time:
        if isinstance(freq, int) and freq >= 1:
            return freq
        raise DataError(f"freq={freq!r} does not fit the integer time column {time!r}: pass an int step such as "
                        "freq=1, or leave freq unset to detect it.")
    if isinstance(freq, int):
        raise DataError(f"freq={freq} is an integer step but time column {time!r} holds timestamps: pass a pandas "
                        "offset alias such as 'D', 'W-SUN', 'MS' or 'h', or leave freq unset to detect it.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # 'M', 'H': deprecated aliases still mean ME, h
            return to_offset(freq).freqstr
    except ValueError:
        raise DataError(f"freq={freq!r} is not a pandas offset alias; use one such as 'D', 'W-SUN', 'MS', 'ME', "
                        "'QS', 'YS', 'h' or '15min', or leave freq unset to detect it.") from None


def _detect_freq(deltas: _Deltas, stats: dict[str, int], integer_time: bool, time: str) -> str | int:
    """The most frequent step, with 28-31 day steps one calendar month (likewise quarters and years)."""
    t = deltas.table
    if t.empty:
        raise DataError(f"Cannot detect the frequency of {time!r}: no series has two distinct times. "
                        "Fix: set freq (e.g. 'D', 'MS', or an int step for integer time).")
    if integer_time:
        kinds, values = np.full(len(t), "int"), t["d"].to_numpy()
    else:
        days, mon = t["d"] / _DAY_US, t["mon"]
        month_like = (((mon == 1) & days.between(28, 31)) | ((mon == 3) & days.between(89, 92))
                      | ((mon == 12) & days.between(365, 366)))
        kinds = np.where(month_like, "month", "us")
        values = np.where(month_like, mon, t["d"])
    votes = (pd.DataFrame({"kind": kinds, "value": values, "n": t["n"]}).groupby(["kind", "value"], as_index=False)["n"]
             .sum().sort_values(["n", "value"], ascending=[False, True]))
    kind, value = votes.iloc[0]["kind"], int(votes.iloc[0]["value"])
    if kind == "int":
        return value
    if kind == "month":
        start = stats["day1"] >= stats["month_end"]
        month = 1 + int(np.argmax([stats[f"m{m}"] for m in range(1, 13)]))
        if value == 1:
            return "MS" if start else "ME"
        if value == 3:  # name the first quarter of the year: QS-JAN/FEB/MAR or QE-OCT/NOV/DEC
            month = (month - 1) % 3 + (1 if start else 10)
        alias = f"{'Q' if value == 3 else 'Y'}{'S' if start else 'E'}-{_MONTHS[month - 1]}"
        return {"QS-JAN": "QS", "QE-DEC": "QE", "YS-JAN": "YS", "YE-DEC": "YE"}.get(alias, alias)
    if value % (7 * _DAY_US) == 0:
        weekday = _WEEKDAYS[int(np.argmax([stats[f"wd{d}"] for d in range(1, 8)]))]
        weeks = value // (7 * _DAY_US)
        return f"{weeks if weeks > 1 else ''}W-{weekday}"
    return to_offset(pd.Timedelta(microseconds=value)).freqstr


def _step_of(freq: str | int, integer_time: bool) -> _Step | None:
    """What a whole number of `freq` steps looks like as a time delta (None: no fixed step, e.g. 'B')."""
    if integer_time:
        return _Step("int", int(freq))
    off = to_offset(freq)
    if isinstance(off, O.Tick):
        return _Step("us", int(off.nanos // 1000))
    if isinstance(off, O.Week) and off.weekday is not None:
        return _Step("week", 7 * _DAY_US * off.n)
    months = {O.MonthBegin: 1, O.MonthEnd: 1, O.QuarterBegin: 3, O.QuarterEnd: 3, O.YearBegin: 12, O.YearEnd: 12}
    return _Step("month", months[type(off)] * off.n) if type(off) in months else None


def _frequency_guardrail(freq: str | int, step: _Step | None, deltas: _Deltas,
                         by_user: bool) -> tuple[Guardrail, float]:
    """PASSED when at least FREQ_MATCH of the steps are whole multiples of freq (gaps have their own guardrail)."""
    t, source = deltas.table, "set by the user" if by_user else "detected"
    if step is None or deltas.pairs == 0:
        return Guardrail("Frequency detection", PASSED, f"Frequency {freq!r} ({source}).",
                         [{"freq": freq, "source": source}]), 1.0
    if step.kind == "month":
        on = (t["mon"] > 0) & (t["mon"] % step.n == 0) & (t["d"] % _DAY_US == 0)
        one = t["mon"] == step.n
    else:
        on, one = t["d"] % step.n == 0, t["d"] == step.n
    share, exact = float(t.loc[on, "n"].sum()) / deltas.pairs, float(t.loc[one, "n"].sum()) / deltas.pairs
    details = [{"freq": freq, "source": source, "steps": deltas.pairs, "share_on_freq": round(share, 4),
                "share_one_step": round(exact, 4)}]
    if share < FREQ_MATCH:
        return Guardrail("Frequency detection", ALERTED,
                         f"Frequency {freq!r} ({source}) fits only {share:.0%} of the time steps; the data look "
                         "irregular. Set freq (and target_aggregation_function to aggregate onto it).", details), share
    return Guardrail("Frequency detection", PASSED,
                     f"Frequency {freq!r} ({source}) fits {share:.0%} of the time steps.", details), share


def _grid_points(step: _Step | None, deltas: _Deltas) -> float | None:
    """Points of the filled grid (every series from its first to its last time), when the step is regular."""
    if step is None or deltas.pairs == 0:
        return None
    total = deltas.sum_mon if step.kind == "month" else deltas.sum_d
    return deltas.n_series + total / step.n


def _check_grid_size(freq: str | int, step: _Step | None, deltas: _Deltas, n_rows: int) -> None:
    """A freq much finer than the data would explode the grid: fail before job B builds it."""
    estimate = _grid_points(step, deltas)
    if estimate is None:
        return
    if estimate > 10 * n_rows and estimate > 1_000_000:
        raise DataError(f"freq={freq!r} would spread the {n_rows} rows over about {int(estimate):,} time steps; "
                        "the data are much coarser than that. Fix: set freq to the data's own frequency (or leave "
                        "it unset to detect it).")


def _sample_fraction(freq: str | int, step: _Step | None, deltas: _Deltas, n_rows: int, n_columns: int,
                     max_rows: int | None) -> tuple[float | None, int | None]:
    """(None, None) when the filled panel fits the driver's budget; else the share of series the search
    samples and the row limit.

    A panel whose series are each too long to sample a few of is refused with the fixes, rather than
    fail on memory after the collect."""
    from ..data.prepare import search_row_limit

    if max_rows is None:
        return None, None
    grid = _grid_points(step, deltas)  # the filled grid: finer raw rows aggregate onto it
    estimate = n_rows if grid is None else int(grid)  # no regular grid known: the rows as they are
    limit = search_row_limit(max_rows, n_columns)
    if estimate <= limit:
        return None, None
    fraction = SAMPLE_MARGIN * limit / estimate
    if deltas.n_series * fraction < MIN_SEARCH_SERIES:
        raise DataError(
            f"The {deltas.n_series:,} series fill about {estimate:,} points at freq={freq!r} ({n_columns} columns), "
            f"more than the driver's budget of {limit:,} rows, and a sample of whole series within it would hold "
            f"fewer than {MIN_SEARCH_SERIES} series. Fix: raise max_rows_in_memory (and the driver's memory), set a "
            "coarser freq with target_aggregation_function, or shorten the history (filter old rows).")
    return fraction, limit


def _series_index(frame: pd.DataFrame, id_kept: list[str]) -> pd.DataFrame:
    """One row per series of collected rows, as job C's index has it: the length before padding, the
    first and last time, the id values."""
    real = frame[~frame[PADDED]]
    by = real.groupby(SERIES_ID)
    index = by[TIME].agg(["size", "first", "last"]).rename(columns={"size": "length"})
    for c in id_kept:
        index[c] = by[c].first()
    return index.reset_index()


def _sampled(seed: int, fraction: float):
    """A seeded choice of whole series: the same series for the same seed, on any cluster."""
    bucket = F.pmod(F.xxhash64(col(SERIES_ID), F.lit(int(seed))), F.lit(SAMPLE_BUCKETS))
    return bucket < F.lit(max(1, int(fraction * SAMPLE_BUCKETS)))


def _within(pdf: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The sampled series that fit the limit (whole series, in id order): the hash sample's size varies."""
    if len(pdf) <= limit:
        return pdf
    sizes = pdf.groupby(SERIES_ID).size()
    keep = sizes.index[sizes.cumsum().to_numpy() <= limit]
    return pdf[pdf[SERIES_ID].isin(keep)].reset_index(drop=True)


def _store_panel(frame: DataFrame, freq: str | int, integer_time: bool, covariates: list[str], id_kept: list[str],
                 n_buckets: int, min_len: int, action: str | None) -> tuple[HistoryStore, pd.DataFrame]:
    """Job C (large panels): every series filled in Spark tasks and stored as Parquet, with short series
    padded there (or marked as dropped: left out of the search, forecast by the fallback); only the
    per-series index comes back as rows."""
    columns = [SERIES_ID, TIME, TARGET, *covariates, *id_kept, PADDED]

    def prepare(chunk: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        return _store_chunk(chunk, freq, integer_time, covariates, id_kept, min_len, action, columns)

    return write_panel(_filled(frame, freq, integer_time, id_kept, n_buckets), prepare)


def _store_chunk(chunk: pd.DataFrame, freq: str | int, integer_time: bool, covariates: list[str], id_kept: list[str],
                 min_len: int, action: str | None, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of some whole series as stored, and their index rows (lengths, bounds, what was done)."""
    chunk = _canonical(chunk.copy(), integer_time)
    offgrid = chunk[_OFFGRID].to_numpy(dtype=bool)
    rows = chunk.loc[~offgrid].assign(**{PADDED: False})
    by = rows.groupby(SERIES_ID, sort=False)
    index = by[TIME].agg(["size", "first", "last"]).rename(columns={"size": "length"})
    index["observed"] = (~rows[_GAP].astype(bool)).groupby(rows[SERIES_ID], sort=False).sum()
    for c in id_kept:
        index[c] = by[c].first()
    off = chunk.loc[offgrid].groupby(SERIES_ID, sort=False)[TIME]
    index["offgrid"] = off.size().reindex(index.index).fillna(0).astype("int64")
    index["offgrid_example"] = off.first().reindex(index.index).astype(str)
    short = index["length"] < min_len
    index["short_action"] = np.where(short, action or "refuse", "")
    # a dropped series is left out of the search, not of the model: it is stored for the fallback forecaster
    index[STORED_ROWS] = np.where(short & (action == "pad"), min_len, index["length"])
    if short.any() and action == "pad":
        pads = [_padding(rows[rows[SERIES_ID] == k], min_len - int(n), freq, integer_time, covariates, id_kept)
                for k, n in index.loc[short, "length"].items()]
        rows = pd.concat([rows, *pads], ignore_index=True)
    elif short.any() and action is None:  # refused on the driver
        rows = rows[~rows[SERIES_ID].isin(index.index[short])]
        index.loc[short, STORED_ROWS] = 0
    return rows[columns], index.reset_index()


def _stored_short(index: pd.DataFrame, min_len: int, mode: str | None, need: str):
    """The short-series guardrail of the whole stored panel (the sample's is only part of it), with the
    action the store applied (decided on the sample); short series with handling off are refused here
    too (the sample may have had none)."""
    short = index.set_index(SERIES_ID).loc[lambda t: t["length"] < min_len, "length"]
    applied = index.loc[index["length"] < min_len, "short_action"]
    guardrail, action = _decide_short(short, len(index), mode, need, min_len,
                                      applied.iloc[0] if len(applied) else None)
    names = [str(k) for k in short.index]
    return guardrail, (names if action == "drop" else []), (names if action == "pad" else [])


def _large_panel_guardrail(store: HistoryStore, n_searched: int, n_rows: int, max_rows: int | None) -> Guardrail:
    return Guardrail("Memory issues detection", DONE,
                     f"The {store.n_series:,} series ({store.n_rows:,} points) exceed the driver's budget "
                     f"(max_rows_in_memory={max_rows:,}): the search ran on a seeded sample of {n_searched:,} whole "
                     f"series ({n_rows:,} points); the final model forecasts every series from the full history, "
                     "stored as Parquet by Spark tasks. Global learners are trained on the sampled series.")


# ---- job B: aggregate and fill the grid ---------------------------------------------------------------

def _snap(frame: DataFrame, freq: str | int, step: _Step | None, integer_time: bool) -> DataFrame:
    """Move each time onto the freq grid before aggregating (Azure aggregates data finer than freq)."""
    ds = F.col(TIME)
    if integer_time or (step is not None and step.kind == "us"):
        anchor = F.min(TIME).over(Window.partitionBy(SERIES_ID))
        if not integer_time and _DAY_US % step.n == 0:
            anchor = F.date_trunc("DAY", anchor)  # days and hours start at midnight (pandas' origin='start_day')
        if integer_time:
            return frame.withColumn(TIME, ds - F.pmod(ds - anchor, F.lit(step.n)))
        us, base = F.unix_micros(ds), F.unix_micros(anchor)
        return frame.withColumn(TIME, F.timestamp_micros(us - F.pmod(us - base, F.lit(step.n))))
    off = to_offset(freq)
    forward = isinstance(off, _END_ANCHORED)  # weeks and month/quarter/year ends label a period by its end

    def snap(ts: pd.Series) -> pd.Series:
        day = ts.dt.normalize()
        moved = {t: (off.rollforward(t) if forward else off.rollback(t)) for t in day.unique()}
        return day.map(moved)

    return frame.withColumn(TIME, F.pandas_udf(snap, T.TimestampType())(ds))


def _aggregate(frame: DataFrame, fn: str, covariates: list[str], id_kept: list[str]) -> DataFrame:
    """One point per (series, time): the target with `fn`, numbers by mean, categories by their mode."""
    types = {f.name: f.dataType for f in frame.schema.fields}
    aggs = [getattr(F, fn)(F.col(TARGET)).alias(TARGET)]
    for c in covariates:
        if isinstance(types[c], T.DoubleType):
            aggs.append(F.mean(col(c)).alias(c))
        elif isinstance(types[c], T.StringType):
            aggs.append(mode_of(c).alias(c))
        else:
            aggs.append(F.first(col(c), ignorenulls=True).alias(c))
    aggs += [F.first(col(c)).alias(c) for c in id_kept]
    return frame.groupBy(SERIES_ID, TIME).agg(*aggs)


def _grid(bounds: pd.DataFrame, freq: str | int, integer_time: bool) -> pd.DataFrame:
    """Every series' regular grid from its first to its last time (vectorised for fixed steps)."""
    off = None if integer_time else to_offset(freq)
    if integer_time or isinstance(off, O.Tick):
        step = int(freq) if integer_time else int(off.nanos)
        first = bounds["first"].to_numpy().astype("int64")
        last = bounds["last"].to_numpy().astype("int64")
        n = (last - first) // step + 1
        within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        times = np.repeat(first, n) + within * step
        return pd.DataFrame({SERIES_ID: np.repeat(bounds.index.to_numpy(), n),
                             TIME: times if integer_time else times.astype("datetime64[ns]")})
    parts = [pd.DataFrame({SERIES_ID: uid, TIME: pd.date_range(a, b, freq=off)})
             for uid, a, b in bounds[["first", "last"]].itertuples()]
    return pd.concat(parts, ignore_index=True)


def _fill_bucket(pdf: pd.DataFrame, freq: str | int, integer_time: bool, constants: list[str],
                 columns: list[str]) -> pd.DataFrame:
    """The series of one hash bucket on their grids: missing steps become rows (y NaN), off-grid rows are flagged.

    Buckets rather than one call per series: pandas' fixed cost per call dominated with ~1000 short series."""
    pdf = pdf.sort_values([SERIES_ID, TIME], kind="stable", ignore_index=True)
    pdf[TIME] = pdf[TIME].astype("int64" if integer_time else "datetime64[ns]")
    by_series = pdf.groupby(SERIES_ID, sort=False)
    grid = _grid(by_series[TIME].agg(["first", "last"]), freq, integer_time)
    filled = grid.merge(pdf, on=[SERIES_ID, TIME], how="left", indicator=True)
    filled[_GAP] = (filled.pop("_merge") == "left_only").to_numpy()
    firsts = by_series[constants].first()
    for c in constants:
        filled[c] = filled[SERIES_ID].map(firsts[c])
    filled[_OFFGRID] = False
    if len(filled) - int(filled[_GAP].sum()) == len(pdf):
        return filled[columns]
    off = pdf.merge(grid, on=[SERIES_ID, TIME], how="left", indicator=True)
    off = off[off.pop("_merge") == "left_only"].assign(**{_GAP: False, _OFFGRID: True})
    return pd.concat([filled, off], ignore_index=True)[columns]


def _n_buckets(spark: SparkSession, n_rows: int, n_series: int) -> int:
    """At least one bucket per shuffle partition, more when buckets would pass ROWS_PER_BUCKET rows."""
    try:
        partitions = int(spark.conf.get("spark.sql.shuffle.partitions", "4"))
    except ValueError:  # 'auto' on some platforms
        partitions = 4
    return max(1, min(max(partitions, math.ceil(n_rows / ROWS_PER_BUCKET)), n_series))


def _filled(frame: DataFrame, freq: str | int, integer_time: bool, id_kept: list[str], n_buckets: int) -> DataFrame:
    """Every series on its grid: applyInPandas over hash buckets of series (not collected)."""
    schema = T.StructType(list(frame.schema.fields) + [T.StructField(_GAP, T.BooleanType()),
                                                        T.StructField(_OFFGRID, T.BooleanType())])
    constants, columns = list(id_kept), schema.fieldNames()

    def fill(pdf):
        return _fill_bucket(pdf.drop(columns=_BUCKET), freq, integer_time, constants, columns)

    bucketed = frame.withColumn(_BUCKET, F.pmod(F.xxhash64(SERIES_ID), F.lit(n_buckets)))
    return bucketed.groupBy(_BUCKET).applyInPandas(fill, schema)


def _fill_and_collect(frame: DataFrame, freq: str | int, integer_time: bool, id_kept: list[str],
                      n_buckets: int) -> pd.DataFrame:
    """Job B: the filled series, in one toPandas."""
    return _filled(frame, freq, integer_time, id_kept, n_buckets).toPandas()


def _canonical(frame: pd.DataFrame, integer_time: bool) -> pd.DataFrame:
    """The canonical frame's dtypes on filled rows as Spark returns them (collected or in a task)."""
    frame[TIME] = frame[TIME].astype("int64" if integer_time else "datetime64[ns]")
    frame[TARGET] = frame[TARGET].astype("float64")
    frame[SERIES_ID] = frame[SERIES_ID].astype(str).astype(object)
    return frame


def _raise_offgrid(offgrid: pd.DataFrame, freq: str | int, time: str) -> None:
    examples = [f"{u}@{t}" for u, t in offgrid[[SERIES_ID, TIME]].head(3).itertuples(index=False)]
    raise DataError(f"{len(offgrid)} row(s) have a {time!r} that is not on the {freq!r} grid of their series, e.g. "
                    f"{examples}. Fix: set freq to the data's own frequency, or set "
                    "target_aggregation_function='sum'|'mean'|'max'|'min' to aggregate the data onto freq.")


# ---- after the collect: guardrails, short series, seasonality --------------------------------------------

def _per_series(counts: pd.Series) -> list[dict[str, Any]]:
    """The total first (series '(all)'), then the series with the most, at most DETAILS of them."""
    top = counts[counts > 0].sort_values(ascending=False, kind="stable").head(DETAILS)
    return [{"series": "(all)", "count": int(counts.sum())}] + [{"series": str(k), "count": int(v)}
                                                                for k, v in top.items()]


def _aggregation_guardrail(agg: str | None, n_rows: int, n_points: int) -> Guardrail:
    merged = n_rows - n_points
    if agg is None or merged == 0:
        return Guardrail("Time series aggregation", PASSED, "Every (series, time) has one row; nothing to aggregate.")
    return Guardrail("Time series aggregation", DONE,
                     f"{n_rows} rows were aggregated into {n_points} (series, time) points: target with {agg!r}, "
                     "numeric columns with the mean, categorical columns with the most frequent value.",
                     [{"rows": n_rows, "points": n_points, "function": agg}])


def _gaps_guardrail(pdf: pd.DataFrame, freq: str | int, index: pd.DataFrame | None = None) -> Guardrail:
    """index: a large panel's per-series lengths, so the alert covers every series, not the sample."""
    if index is None:
        gaps = pdf.loc[pdf[_GAP]].groupby(SERIES_ID).size()
    else:
        gaps = (index["length"] - index["observed"]).set_axis(index[SERIES_ID]).loc[lambda g: g > 0]
    if gaps.empty:
        return Guardrail("Missing time steps", PASSED, f"Every series is complete on its {freq!r} grid.")
    return Guardrail("Missing time steps", ALERTED,
                     f"{int(gaps.sum())} missing time step(s) in {len(gaps)} series were added with a missing target "
                     "(imputed for features, never scored).", _per_series(gaps))


def _missing_target_guardrail(pdf: pd.DataFrame, label: str) -> Guardrail:
    real = ~pdf[_GAP] & ~pdf[PADDED]
    missing = pdf.loc[real & pdf[TARGET].isna()].groupby(SERIES_ID).size()
    if missing.empty:
        return Guardrail("Missing target values", PASSED, f"Every observed row has a value of {label!r}.")
    return Guardrail("Missing target values", DONE,
                     f"{int(missing.sum())} missing value(s) of {label!r} are kept as NaN: imputed for lag features "
                     "and the models, never scored.", _per_series(missing))


def _id_guardrail(n_series: int, ids: list[str]) -> Guardrail:
    if not ids:
        return Guardrail("Time series ID detection", PASSED, "One series (no time_series_id_column_names).",
                         [{"series": n_series, "id_columns": []}])
    return Guardrail("Time series ID detection", PASSED, f"{n_series} series identified by {ids}.",
                     [{"series": n_series, "id_columns": list(ids)}])


def _short_action(mode: str | None, n_short: int, n_series: int) -> str | None:
    """Azure's short_series_handling_configuration: 'auto' pads when every series is short, else drops;
    None refuses short series."""
    if mode is None:
        return None
    return "pad" if mode == "pad" or (mode == "auto" and n_short == n_series) else "drop"


def _refuse_short(short: pd.Series, need: str) -> None:
    listed = ", ".join(f"{k!r} ({v} steps)" for k, v in short.head(5).items())
    raise DataError(f"{len(short)} series are shorter than {need}: {listed}. Fix: lower forecast_horizon or "
                    "n_cross_validations, or set short_series_handling_configuration='drop' or 'pad'.")


def _short_guardrail(short: pd.Series, min_len: int, action: str) -> Guardrail:
    details = [{"series": str(k), "length": int(v), "action": action} for k, v in short.head(100).items()]
    if action == "drop":
        return Guardrail("Short series handling", DONE,
                         f"{len(short)} series shorter than {min_len} time steps were dropped.", details)
    return Guardrail("Short series handling", DONE, f"{len(short)} series shorter than {min_len} time steps were "
                     "padded at the start with their mean target (padded rows are never scored).", details)


def _decide_short(short: pd.Series, n_series: int, mode: str | None, need: str, min_len: int,
                  action: str | None = None) -> tuple[Guardrail, str | None]:
    """The guardrail and the action for the short series (lengths by series id): refused with handling
    off, or when dropping them would leave nothing; `action` when already decided (a stored panel)."""
    if short.empty:
        return Guardrail("Short series handling", PASSED, f"Every series has at least {min_len} time steps."), None
    if mode is None:
        _refuse_short(short, need)
    action = action or _short_action(mode, len(short), n_series)
    if action == "drop" and len(short) == n_series:
        listed = ", ".join(f"{k!r} ({v} steps)" for k, v in short.head(5).items())
        raise DataError(f"Every series is shorter than {need} (e.g. {listed}), so dropping them leaves no data. "
                        "Fix: lower forecast_horizon or n_cross_validations, or set "
                        "short_series_handling_configuration='pad'.")
    return _short_guardrail(short, min_len, action), action


def _handle_short(pdf: pd.DataFrame, min_len: int, mode: str | None, need: str, freq: str | int, integer_time: bool,
                  covariates: list[str], id_kept: list[str]) -> tuple[pd.DataFrame, Guardrail, list[str], list[str]]:
    """Short series dropped or padded (or refused) as short_series_handling_configuration says."""
    lengths = pdf.groupby(SERIES_ID).size()
    short = lengths[lengths < min_len]
    guardrail, action = _decide_short(short, len(lengths), mode, need, min_len)
    names = [str(k) for k in short.index]
    if action is None:
        return pdf, guardrail, [], []
    if action == "drop":
        return pdf[~pdf[SERIES_ID].isin(short.index)], guardrail, names, []
    pads = [_padding(pdf[pdf[SERIES_ID] == k], min_len - n, freq, integer_time, covariates, id_kept)
            for k, n in short.items()]
    return pd.concat([pdf, *pads], ignore_index=True), guardrail, [], names


def _padding(series: pd.DataFrame, k: int, freq: str | int, integer_time: bool, covariates: list[str],
             id_kept: list[str]) -> pd.DataFrame:
    """k earlier steps holding the series' mean target, so a short series reaches the minimum length."""
    first = series[TIME].min()
    if integer_time:
        times = first - int(freq) * np.arange(k, 0, -1, dtype="int64")
    else:
        times = pd.date_range(end=first, periods=k + 1, freq=freq)[:-1]
    mean = series[TARGET].mean()
    pad = pd.DataFrame({SERIES_ID: series[SERIES_ID].iloc[0], TIME: times,
                        TARGET: 0.0 if np.isnan(mean) else float(mean)})
    for c in covariates:
        kind = series[c].dtype.kind
        pad[c] = np.nan if kind in "fiub" else pd.NaT if kind == "M" else None
    for c in id_kept:
        pad[c] = series[c].iloc[0]
    pad[_GAP], pad[PADDED] = False, True
    return pad


def _season_length(settings: ForecastingParameters, freq: str | int, integer_time: bool,
                   frame: pd.DataFrame) -> tuple[int, Guardrail]:
    """The season every model uses, and a guardrail that says which rule chose it.

    Rules, in order: an int `seasonality` as given; datetime time: the calendar cycle of `freq` (Azure's
    rule: months 12, quarters 4, weeks 52, days 7, hours 24); integer time with `time_step_unit`: the same
    calendar cycle of the unit, in steps of `freq`; integer time without it: the strongest ACF peak (> 0.3)
    of the mean series. The guardrail alerts when most series are shorter than two seasons (seasonal
    models then fall back to their non-seasonal form) or when the calendar cycle is not in the data's ACF."""
    setting, unit = settings.seasonality, settings.time_step_unit
    acf_at = _acf_values(frame, int(freq)) if integer_time else None
    if isinstance(setting, int):
        season, rule = setting, f"seasonality={setting} as set"
    elif not integer_time:
        season, rule = _freq_season(freq), f"the calendar cycle of freq {freq!r}"
    elif unit is not None:
        cycle = _freq_season(unit)
        season = cycle // int(freq) if cycle % int(freq) == 0 else 1
        rule = f"the calendar cycle of time_step_unit={unit!r} ({cycle} steps of {unit!r}) in steps of {freq}"
    else:
        season = _acf_peak(acf_at)
        rule = ("the strongest autocorrelation peak of the mean series" if season > 1 else
                "no autocorrelation peak above 0.3 in the mean series (integer time has no calendar; set "
                "time_step_unit='W' (or 'D', 'MS', 'h') to use the calendar's season, or seasonality=N)")
    lengths = frame.loc[~frame[PADDED]].groupby(SERIES_ID).size()
    too_short = int((lengths < 2 * season).sum()) if season > 1 else 0
    detail = {"season_length": season, "rule": rule}
    if acf_at is not None and 1 < season < len(acf_at):
        detail["acf_at_season"] = round(float(acf_at[season]), 3)
    if season > 1 and too_short * 2 > len(lengths):
        return season, Guardrail("Seasonality detection", ALERTED, (
            f"Season length {season} ({rule}), but {too_short} of {len(lengths)} series are shorter than two "
            f"seasons ({2 * season} steps): seasonal models use their non-seasonal form there. Set seasonality= "
            "to a shorter cycle the data show, or give more history."), [detail])
    if "acf_at_season" in detail and setting == "auto" and unit is not None and detail["acf_at_season"] < 0.1:
        return season, Guardrail("Seasonality detection", ALERTED, (
            f"Season length {season} ({rule}); the mean series' autocorrelation at lag {season} is only "
            f"{detail['acf_at_season']}: the calendar cycle is weak in these data."), [detail])
    extra = " MSTL also models the week." if season >= 24 and season % 24 == 0 else ""
    return season, Guardrail("Seasonality detection", PASSED, f"Season length {season} ({rule}).{extra}", [detail])


def _freq_season(freq: str) -> int:
    """Azure's default cycle per frequency: months 12, quarters 4, weeks 52, days 7, hours 24."""
    off = to_offset(freq)
    n = off.n
    cycles = [((O.MonthBegin, O.MonthEnd), 12), ((O.QuarterBegin, O.QuarterEnd), 4), ((O.Hour,), 24)]
    for types, cycle in cycles:
        if isinstance(off, types):
            return cycle // n if cycle % n == 0 else 1
    single = {O.Week: 52, O.Day: 7, O.BusinessDay: 5}
    return single.get(type(off), 1) if n == 1 else 1


def _acf_values(frame: pd.DataFrame, step: int) -> np.ndarray | None:
    """ACF of the mean series over integer time, up to lag min(n/2, 60); None when too short to tell."""
    from statsmodels.tsa.stattools import acf

    mean = frame.loc[~frame[PADDED]].groupby(TIME)[TARGET].mean().sort_index()
    if len(mean) < 8:
        return None
    x = mean.reindex(np.arange(mean.index.min(), mean.index.max() + 1, step)).to_numpy(float)
    max_lag = min(len(x) // 2, 60)
    if max_lag < 2 or np.isfinite(x).sum() < 8:
        return None
    return np.nan_to_num(acf(x, nlags=max_lag, missing="conservative", fft=False), nan=-1.0)


def _acf_peak(r: np.ndarray | None) -> int:
    """The strongest local ACF peak (> 0.3) at lag >= 2; 1 when there is none."""
    if r is None:
        return 1
    max_lag = len(r) - 1
    best = 2 + int(np.argmax(r[2:max_lag + 1]))
    peak = r[best] > r[best - 1] and (best == max_lag or r[best] >= r[best + 1])
    return best if r[best] > 0.3 and peak else 1
