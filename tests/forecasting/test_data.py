"""load_series on real data (the samples in tests/datasets): parsing, frequency, gaps, aggregation, short series,
errors."""

import numpy as np
import pandas as pd
import pytest

from spark_automl.errors import ConfigError, DataError
from spark_automl.forecasting.data import (PADDED, SINGLE_SERIES, _season_length, check_series_schema, load_series,
                                        min_series_length, series_key)
from spark_automl.forecasting.settings import ForecastingParameters

from ..conftest import dataset_csv

pytestmark = [pytest.mark.spark, pytest.mark.extra("forecast")]


@pytest.fixture(scope="module")
def airline():
    return dataset_csv("airline_passengers")


@pytest.fixture(scope="module")
def txhousing():
    """12 of the 46 cities, whole series (2000-01 .. 2015-07, 187 months each)."""
    return dataset_csv("txhousing")


@pytest.fixture(scope="module")
def oj():
    """The 8 lowest store numbers x 11 brands = 88 series, whole series."""
    return dataset_csv("oj_sales")


@pytest.fixture(scope="module")
def beijing():
    return dataset_csv("beijing_pm25", nrows=3000)  # the sample holds exactly these first 3000 hours


def load(spark, pdf, label, n_cv=3, cv_step=1, **settings):
    return load_series(spark, spark.createDataFrame(pdf), label, ForecastingParameters(**settings), n_cv, cv_step)


def guardrail(sd, name):
    return next(g for g in sd.guardrails if g.name == name)


def total(g):
    """A guardrail's overall count: the '(all)' row of its per-series details."""
    return next(d["count"] for d in g.details if d["series"] == "(all)")


def test_min_series_length():
    assert min_series_length(12, 3, 1) == 12 + 12  # the last origin: a horizon of history, one to validate
    assert min_series_length(6, 5, 6) == 6 + 6  # earlier origins take the series that reach them (cv.split)
    with pytest.raises(ConfigError, match="forecast_horizon=0"):
        min_series_length(0, 3, 1)


def test_airline_single_monthly_series(spark, airline):
    sd = load(spark, airline, "passengers", time_column_name="month", forecast_horizon=12)
    f = sd.frame
    assert (sd.freq, sd.season_length, sd.n_series, len(f)) == ("MS", 12, 1, 144)
    assert sd.id_columns == [] and sd.covariates == [] and not sd.integer_time
    assert list(f.columns) == ["unique_id", "ds", "y", PADDED]
    assert (f["unique_id"] == SINGLE_SERIES).all() and not f[PADDED].any()
    assert str(f["ds"].dtype) == "datetime64[ns]" and f["y"].dtype == np.float64
    assert (f["ds"] == pd.date_range("1949-01-01", "1960-12-01", freq="MS")).all()
    assert f["y"].tolist() == airline["passengers"].astype(float).tolist()
    assert {g.name: g.status for g in sd.guardrails} == {
        "Frequency detection": "passed", "Time series ID detection": "passed", "Time series aggregation": "passed",
        "Missing time steps": "passed", "Missing target values": "passed", "Short series handling": "passed",
        "Seasonality detection": "passed"}


def test_txhousing_gaps_filled_and_missing_targets_counted(spark, txhousing):
    # drop 25 rows that are neither the first nor the last month of their city, so they become gaps
    inner = txhousing[(txhousing["date"] > "2000-01-01") & (txhousing["date"] < "2015-07-01")]
    removed = inner.sample(n=25, random_state=0)
    data = txhousing.drop(index=removed.index)
    sd = load(spark, data, "sales", time_column_name="date", time_series_id_column_names=["city"], forecast_horizon=6)
    f = sd.frame
    assert (sd.freq, sd.season_length, sd.n_series) == ("MS", 12, 12)
    assert sd.id_columns == ["city"] and sd.covariates == ["volume", "median", "listings", "inventory"]
    assert len(f) == len(txhousing) == 12 * 187  # every one of the 12 cities back on 187 months
    for _, s in f.groupby("unique_id"):
        assert (s["ds"].to_numpy() == pd.date_range("2000-01-01", "2015-07-01", freq="MS").to_numpy()).all()
    assert (f["unique_id"] == f["city"]).all()
    gaps = guardrail(sd, "Missing time steps")
    assert gaps.status == "alerted" and total(gaps) == 25
    holes = f.merge(removed.assign(ds=pd.to_datetime(removed["date"]))[["city", "ds"]], on=["city", "ds"])
    assert len(holes) == 25 and holes["y"].isna().all() and holes["volume"].isna().all()
    missing = guardrail(sd, "Missing target values")
    nan_not_gap = int(f["y"].isna().sum()) - 25
    assert missing.status == "done" and total(missing) == nan_not_gap == int(data["sales"].isna().sum())
    assert int(txhousing["sales"].isna().sum()) == 319
    abilene = f[(f["city"] == "Abilene") & (f["ds"] == "2000-03-01")].iloc[0]
    assert (abilene["y"], abilene["volume"]) == (130.0, 9285000.0)


def test_oj_sales_integer_time_many_series(spark, oj):
    sd = load(spark, oj, "logmove", time_column_name="week", time_series_id_column_names=["store", "brand"],
              forecast_horizon=4)
    f = sd.frame
    assert sd.integer_time and sd.freq == 1 and sd.n_series == 88 and f["ds"].dtype == np.int64
    assert sd.season_length == 4  # the mean series' ACF peaks at lag 4 (0.37 > 0.3): the 4-week promotion cycle
    assert {f"price{i}" for i in range(1, 12)} | {"deal", "feat", "profit", "constant"} == set(sd.covariates)
    gaps = guardrail(sd, "Missing time steps")
    assert total(gaps) == len(f) - len(oj) > 0
    raw = oj[(oj["store"] == 2) & (oj["brand"] == 1)]
    s = f[f["unique_id"] == "2|1"]
    assert s["ds"].tolist() == list(range(raw["week"].min(), raw["week"].max() + 1))
    added = len(s) - len(raw)
    assert added > 0 and s["y"].isna().sum() == added
    assert (s["store"] == 2).all() and (s["brand"] == 1).all()
    assert s.set_index("ds").loc[raw["week"], "y"].tolist() == pytest.approx(raw["logmove"].tolist())
    assert (series_key(f, ["store", "brand"]) == f["unique_id"]).all()
    season = guardrail(sd, "Seasonality detection")
    assert season.status == "passed" and "autocorrelation peak" in season.description
    assert season.details[0]["acf_at_season"] > 0.3
    # weeks as the unit: the calendar's 52, reported with how weak the yearly cycle is in these data
    weekly = ForecastingParameters(time_column_name="week", time_series_id_column_names=["store", "brand"],
                                   time_step_unit="W")
    n, yearly = _season_length(weekly, 1, True, f)
    assert n == 52 and yearly.status == "alerted" and "time_step_unit='W'" in yearly.details[0]["rule"]
    assert yearly.details[0]["acf_at_season"] < 0.1 or "shorter than two seasons" in yearly.description
    fortnights = ForecastingParameters(time_column_name="week", time_step_unit="W", seasonality="auto")
    assert _season_length(fortnights, 2, True, f)[0] == 26  # steps of two weeks
    assert _season_length(ForecastingParameters(seasonality=13), 1, True, f)[0] == 13
    with pytest.raises(ConfigError, match="time_step_unit"):
        ForecastingParameters(time_step_unit="fortnight")


def test_a_panel_too_long_per_series_to_sample_is_refused_before_it_is_collected(spark, oj):
    settings = ForecastingParameters(time_column_name="week", time_series_id_column_names=["store", "brand"],
                                     forecast_horizon=4)
    with pytest.raises(DataError, match=r"The 88 series fill about [\d,]+ points at freq=1 .*fewer than 5 series"
                                        r".*max_rows_in_memory"):
        load_series(spark, spark.createDataFrame(oj), "logmove", settings, 3, 1, max_rows_in_memory=200)
    assert load_series(spark, spark.createDataFrame(oj), "logmove", settings, 3, 1,
                       max_rows_in_memory=len(oj) * 2).n_series == 88


def test_beijing_hourly_with_categorical_covariate(spark, beijing):
    sd = load(spark, beijing, "pm25", time_column_name="timestamp", forecast_horizon=24)
    f = sd.frame
    assert (sd.freq, sd.season_length, len(f)) == ("h", 24, 3000)
    assert "MSTL also models the week" in guardrail(sd, "Seasonality detection").description
    missing = total(guardrail(sd, "Missing target values"))
    assert missing == int(beijing["pm25"].isna().sum()) == int(f["y"].isna().sum()) == 129
    assert f["y"].iloc[:24].isna().all()  # the source's first day has no PM2.5
    assert set(f["cbwd"]) == set(beijing["cbwd"]) and f["cbwd"].tolist() == beijing["cbwd"].tolist()
    assert f["TEMP"].tolist() == beijing["TEMP"].astype(float).tolist()


@pytest.mark.parametrize("subset,expected", [
    ("daily", ("D", 7)), ("weekly", ("W-MON", 52)), ("quarterly", ("QS", 4)), ("yearly", ("YS", 1)),
    ("month_end", ("ME", 12)),
])
def test_frequency_aliases_detected(spark, airline, beijing, subset, expected):
    ts = pd.to_datetime(beijing["timestamp"])
    months = pd.to_datetime(airline["month"])
    data, time = {
        "daily": (beijing[ts.dt.hour == 0], "timestamp"),
        "weekly": (beijing[(ts.dt.hour == 0) & (ts.dt.dayofweek == 0)], "timestamp"),
        "quarterly": (airline[months.dt.month.isin([1, 4, 7, 10])], "month"),
        "yearly": (airline[months.dt.month == 1], "month"),
        "month_end": (airline.assign(month=(months + pd.offsets.MonthEnd(0)).dt.strftime("%Y-%m-%d")), "month"),
    }[subset]
    label = "pm25" if time == "timestamp" else "passengers"
    sd = load(spark, data, label, n_cv=1, time_column_name=time, forecast_horizon=1)
    assert (sd.freq, sd.season_length) == expected
    assert len(sd.frame) == len(data) and guardrail(sd, "Frequency detection").status == "passed"


def test_schema_errors_name_the_column_and_the_fix(spark, airline, txhousing):
    df = spark.createDataFrame(txhousing)
    with pytest.raises(ConfigError, match="time_column_name is required"):
        check_series_schema(df, "sales", ForecastingParameters())
    with pytest.raises(DataError, match=r"time_column_name 'when' is not a column.*'city', 'date', 'sales'"):
        check_series_schema(df, "sales", ForecastingParameters(time_column_name="when"))
    with pytest.raises(DataError, match=r"time_series_id_column_names \['town'\] not found.*available columns: 'city'"):
        check_series_schema(df, "sales", ForecastingParameters(time_column_name="date",
                                                                time_series_id_column_names=["city", "town"]))
    with pytest.raises(DataError, match="label_column_name 'price'"):
        check_series_schema(df, "price", ForecastingParameters(time_column_name="date"))
    bad = airline.astype({"month": str})
    bad.loc[[5, 9], "month"] = ["not-a-date", "1950/13/45"]
    with pytest.raises(DataError, match=r"'month' has 2 value\(s\).*not-a-date.*'YYYY-MM-DD'"):
        load(spark, bad, "passengers", time_column_name="month")
    with pytest.raises(DataError, match=r"freq='fortnightly' is not a pandas offset alias"):
        load(spark, airline, "passengers", time_column_name="month", freq="fortnightly")
    text_target = airline.astype({"passengers": str})
    text_target.loc[3, "passengers"] = "n/a"
    with pytest.raises(DataError, match=r"Target column 'passengers' has 1 value\(s\) that are not finite numbers.*'n/a'"):
        load(spark, text_target, "passengers", time_column_name="month")
    no_city = txhousing.copy()
    no_city.loc[[7, 8], "city"] = None
    with pytest.raises(DataError, match=r"empty values in \{'city': 2\} row\(s\)"):
        load(spark, no_city, "sales", time_column_name="date", time_series_id_column_names=["city"])


def test_duplicates_error_then_aggregate(spark, oj):
    small = oj[oj["store"] <= 8].reset_index(drop=True)  # stores 2, 5, 8 x 11 brands
    with pytest.raises(DataError, match=r"row\(s\) repeat the \(series ids, time\).*target_aggregation_function"
                                        r".*\['store', 'brand'\]"):
        load(spark, small, "logmove", time_column_name="week")
    sd = load(spark, small, "logmove", time_column_name="week", target_aggregation_function="sum")
    expected = small.groupby("week")["logmove"].sum()
    f = sd.frame.set_index("ds")
    assert sd.n_series == 1 and f.loc[expected.index, "y"].tolist() == pytest.approx(expected.tolist())
    assert f.loc[expected.index, "price1"].tolist() == pytest.approx(small.groupby("week")["price1"].mean().tolist())
    agg = guardrail(sd, "Time series aggregation")
    assert agg.status == "done" and agg.details[0]["rows"] == len(small) and agg.details[0]["points"] == len(expected)


def test_aggregation_onto_a_coarser_freq(spark, beijing, txhousing):
    sd = load(spark, beijing, "pm25", time_column_name="timestamp", freq="D", target_aggregation_function="mean")
    day = pd.to_datetime(beijing["timestamp"]).dt.floor("D")
    expected = beijing.groupby(day)["pm25"].mean()  # NaN hours skipped; the all-NaN first day stays NaN
    assert sd.freq == "D" and sd.season_length == 7 and len(sd.frame) == 125
    assert guardrail(sd, "Frequency detection").status == "done"
    np.testing.assert_allclose(sd.frame["y"].to_numpy(), expected.to_numpy())
    quarterly = load(spark, txhousing, "sales", time_column_name="date", time_series_id_column_names=["city"],
                     freq="QS", target_aggregation_function="sum")
    abilene = quarterly.frame[quarterly.frame["city"] == "Abilene"].set_index("ds")["y"]
    assert quarterly.season_length == 4 and abilene.loc["2000-01-01"] == 72 + 98 + 130
    with pytest.raises(DataError, match=r"not on the 'D' grid.*target_aggregation_function"):
        load(spark, beijing, "pm25", time_column_name="timestamp", freq="D")


def test_short_series_handling(spark, txhousing):
    abilene = txhousing["city"] == "Abilene"
    keep = ~abilene | (txhousing["date"] >= "2015-03-01")  # Abilene keeps its last 5 months
    data = txhousing[keep]
    settings = dict(time_column_name="date", time_series_id_column_names=["city"], forecast_horizon=6)
    need = min_series_length(6, 3, 1)  # 12
    with pytest.raises(DataError, match=rf"1 series are shorter than the {need} time steps.*'Abilene' \(5 steps\)"
                                        r".*short_series_handling_configuration='drop' or 'pad'"):
        load(spark, data, "sales", short_series_handling_configuration=None, **settings)
    for mode in ("drop", "auto"):
        dropped = load(spark, data, "sales", short_series_handling_configuration=mode, **settings)
        assert dropped.n_series == 11 and dropped.dropped_series == ["Abilene"] and dropped.padded_series == []
        assert "Abilene" not in set(dropped.frame["city"])
        assert guardrail(dropped, "Short series handling").status == "done"
    padded = load(spark, data, "sales", short_series_handling_configuration="pad", **settings)
    s = padded.frame[padded.frame["city"] == "Abilene"]
    real = txhousing[abilene & keep]
    assert padded.padded_series == ["Abilene"] and len(s) == need and s[PADDED].sum() == need - 5
    assert s[PADDED].tolist() == [True] * (need - 5) + [False] * 5
    assert s["ds"].tolist() == list(pd.date_range(end="2015-07-01", periods=need, freq="MS"))
    assert s.loc[s[PADDED], "y"].tolist() == pytest.approx([real["sales"].mean()] * (need - 5))
    assert s.loc[s[PADDED], "volume"].isna().all()
    assert not padded.frame.loc[padded.frame["city"] != "Abilene", PADDED].any()


def test_every_series_short(spark, airline):
    settings = dict(time_column_name="month", forecast_horizon=80)  # needs 80 + 80 = 160 > 144 months
    sd = load(spark, airline, "passengers", **settings)  # 'auto' pads when every series is short
    assert sd.padded_series == [SINGLE_SERIES] and len(sd.frame) == 160 and sd.frame[PADDED].sum() == 16
    assert sd.frame["ds"].iloc[0] == pd.Timestamp("1947-09-01")
    with pytest.raises(DataError, match="Every series is shorter.*leaves no data"):
        load(spark, airline, "passengers", short_series_handling_configuration="drop", **settings)


def test_canonical_names_and_timestamp_input(spark, txhousing):
    """statsforecast-style input (unique_id, ds, y) with a real timestamp column works unchanged."""
    data = txhousing.rename(columns={"city": "unique_id", "date": "ds", "sales": "y"})
    data["ds"] = pd.to_datetime(data["ds"])
    sd = load(spark, data, "y", time_column_name="ds", time_series_id_column_names=["unique_id"], forecast_horizon=6)
    assert sd.id_columns == ["unique_id"] and sd.covariates == ["volume", "median", "listings", "inventory"]
    assert list(sd.frame.columns) == ["unique_id", "ds", "y", "volume", "median", "listings", "inventory", PADDED]
    assert (sd.freq, sd.n_series, len(sd.frame)) == ("MS", 12, 12 * 187)
    assert (series_key(data, ["unique_id"]).sort_values().tolist() == sd.frame["unique_id"].sort_values().tolist())
