"""LagFeaturizer: the no-look-ahead contract, recursion equality and feature values on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spark_automl.errors import ConfigError, DataError
from spark_automl.forecasting.features import LagFeaturizer, default_lags, training_matrix
from ..conftest import dataset_csv

pytestmark = pytest.mark.extra("forecast")

TX_COVARIATES = ["volume", "median", "listings", "inventory"]
TX_UNKNOWN = ["listings", "inventory"]


@pytest.fixture(scope="module")
def air() -> pd.DataFrame:
    raw = dataset_csv("airline_passengers")
    return pd.DataFrame({"unique_id": "__single__", "ds": pd.to_datetime(raw["month"]),
                         "y": raw["passengers"].astype(float)})


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    raw = dataset_csv("txhousing").rename(columns={"city": "unique_id", "date": "ds", "sales": "y"})
    raw["ds"] = pd.to_datetime(raw["ds"])
    grid = pd.MultiIndex.from_product(
        [sorted(raw["unique_id"].unique()), pd.date_range(raw["ds"].min(), raw["ds"].max(), freq="MS")],
        names=["unique_id", "ds"])
    frame = raw.set_index(["unique_id", "ds"]).reindex(grid).reset_index()
    return frame[["unique_id", "ds", "y", *TX_COVARIATES]].astype({c: float for c in ["y", *TX_COVARIATES]})


def tx_featurizer(horizon: int = 3) -> LagFeaturizer:
    """Every feature family at once, so the leakage test covers all of them."""
    return LagFeaturizer("MS", season_length=12, target_lags="auto", rolling_window="auto",
                         covariates=TX_COVARIATES, unknown_covariates=TX_UNKNOWN, feature_lags="auto",
                         holidays_country="US", use_stl="season_trend", horizon=horizon)


def toy(y: list[float], start: str = "2020-01-01", freq: str = "MS", uid: str = "a") -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(y), freq=freq),
                         "y": np.asarray(y, dtype=float)})


# ----------------------------------------------------------------------------- leakage
CUTS = ["2004-06-01", "2009-01-01", "2013-11-01"]


@pytest.mark.parametrize("cut", CUTS)
def test_target_after_cut_never_reaches_rows_up_to_cut(tx, cut):
    """Row T's features depend only on y < T: scrambling y at all times >= T leaves rows <= T unchanged."""
    T = pd.Timestamp(cut)
    rng = np.random.default_rng(0)
    later = (tx["ds"] >= T).to_numpy()
    scrambled = tx.copy()
    noise = rng.uniform(0, 5000, later.sum())
    noise[rng.random(later.sum()) < 0.2] = np.nan  # missing values must not be filled from the future either
    scrambled.loc[later, "y"] = noise
    upto = (tx["ds"] <= T).to_numpy()

    # Rolling-origin refit on the data before T (identical for both frames), then transform everything.
    X = tx_featurizer().fit(tx[~later]).transform(tx)
    X_scrambled = tx_featurizer().fit(scrambled[~later]).transform(scrambled)
    pd.testing.assert_frame_equal(X[upto], X_scrambled[upto], check_exact=True)
    # ...and transform alone never looks forward, even inside the fit history.
    fitted = tx_featurizer().fit(tx)
    pd.testing.assert_frame_equal(fitted.transform(tx)[upto], fitted.transform(scrambled)[upto], check_exact=True)

    # The check is sensitive: the step right after T does see the scrambled y_T.
    after = (tx["ds"] == T + pd.offsets.MonthBegin(1)).to_numpy()
    assert (X.loc[after, "y_lag1"] != X_scrambled.loc[after, "y_lag1"]).any()


@pytest.mark.parametrize("cut", CUTS)
def test_covariates_respect_what_is_known_at_each_time(tx, cut):
    """Unknown covariates reach row T only from times <= T - horizon; known ones only from times <= T."""
    T, horizon = pd.Timestamp(cut), 3
    rng = np.random.default_rng(1)
    fitted = tx_featurizer(horizon).fit(tx)
    base = fitted.transform(tx)
    upto = (tx["ds"] <= T).to_numpy()

    unknown_late = (tx["ds"] > T - pd.DateOffset(months=horizon)).to_numpy()
    scrambled = tx.copy()
    scrambled.loc[unknown_late, TX_UNKNOWN] = rng.uniform(0, 1e4, (unknown_late.sum(), len(TX_UNKNOWN)))
    known_late = (tx["ds"] > T).to_numpy()
    scrambled.loc[known_late, ["volume", "median"]] = rng.uniform(0, 1e6, (known_late.sum(), 2))
    pd.testing.assert_frame_equal(base[upto], fitted.transform(scrambled)[upto], check_exact=True)

    # Sensitivity: the unknown covariate at exactly T - horizon is what row T sees.
    edge = tx.copy()
    at_edge = (tx["ds"] == T - pd.DateOffset(months=horizon)).to_numpy()
    edge.loc[at_edge, "listings"] = -1.0
    row_t = (tx["ds"] == T).to_numpy()
    assert (fitted.transform(edge).loc[row_t, "listings_lag3"] == -1.0).all()


# ----------------------------------------------------------------------------- recursion
def test_next_step_equals_transform_of_appended_rows(tx):
    origin = pd.Timestamp("2012-06-01")
    f = tx_featurizer(horizon=4).fit(tx[tx["ds"] <= origin])
    history = tx[tx["ds"] <= origin]
    for step in range(1, 5):
        when = origin + pd.DateOffset(months=step)
        future = tx.loc[tx["ds"] == when, ["unique_id", "ds", "volume", "median"]]  # known covariates only
        feats = f.next_step(history, future)
        assert list(feats.index) == list(future.index) and list(feats.columns) == f.feature_names_
        last = history.groupby("unique_id")["y"].last()  # last non-NaN value: the forward fill
        assert np.array_equal(feats["y_lag1"].to_numpy(), last.loc[future["unique_id"]].to_numpy())
        predicted = future.assign(y=0.7 * feats["y_lag1"] + 0.3 * feats["y_lag12"])
        history = pd.concat([history, predicted])
        expected = f.transform(history).loc[future.index]
        pd.testing.assert_frame_equal(feats, expected, rtol=1e-10, atol=1e-8)


def test_next_step_rejects_a_step_that_skips_ahead(air):
    f = LagFeaturizer("MS", season_length=12).fit(air)
    skip = pd.DataFrame({"unique_id": ["__single__"], "ds": [pd.Timestamp("1961-03-01")]})
    with pytest.raises(DataError, match="not the step right after"):
        f.next_step(air, skip)
    twice = pd.DataFrame({"unique_id": ["__single__"] * 2, "ds": pd.to_datetime(["1961-01-01", "1961-02-01"])})
    with pytest.raises(DataError, match="exactly one next time step"):
        f.next_step(air, twice)


# ----------------------------------------------------------------------------- values
def test_default_lags_rule():
    assert default_lags(12) == [1, 2, 3, 12]
    assert default_lags(1) == [1, 2, 3]
    assert default_lags(3) == [1, 2, 3]
    frame = toy([1.0, 2.0, 3.0, 4.0])
    assert LagFeaturizer("MS", season_length=7).fit(frame).lags_ == [1, 2, 3, 7]
    assert LagFeaturizer("MS", season_length=7, target_lags="auto").fit(frame).lags_ == [1, 2, 3, 7]
    assert LagFeaturizer("MS", target_lags=5).fit(frame).lags_ == [5]
    assert LagFeaturizer("MS", target_lags=[6, 2, 6]).fit(frame).lags_ == [2, 6]


def test_lags_and_rolling_window_by_value(air):
    f = LagFeaturizer("MS", season_length=12, target_lags=[1, 12], rolling_window=3).fit(air)
    X = f.transform(air).set_axis(air["ds"])
    jan50 = X.loc[pd.Timestamp("1950-01-01")]
    assert jan50["y_lag12"] == 112.0  # 1949-01
    assert jan50["y_lag1"] == 118.0  # 1949-12
    last3 = np.array([119.0, 104.0, 118.0])  # 1949-10 .. 1949-12, not 1950-01 itself
    assert jan50["y_roll3_mean"] == pytest.approx(last3.mean())
    assert (jan50["y_roll3_min"], jan50["y_roll3_max"]) == (104.0, 119.0)
    assert jan50["y_roll3_std"] == pytest.approx(last3.std())
    # The first row has no past: target features fall back to the fit-time series mean, std to 0.
    first = X.iloc[0]
    mean = air["y"].mean()
    assert first["series_mean"] == pytest.approx(mean)
    assert first["y_lag1"] == first["y_lag12"] == first["y_roll3_mean"] == pytest.approx(mean)
    assert first["y_roll3_std"] == 0.0
    assert X.iloc[1]["y_roll3_mean"] == 112.0 and X.iloc[1]["y_roll3_std"] == 0.0


def test_missing_target_is_forward_filled_never_backward():
    frame = toy([np.nan, 10.0, np.nan, 30.0, np.nan])
    X = LagFeaturizer("MS", target_lags=[1, 2], rolling_window=2).fit(frame).transform(frame)
    # fit-time mean is 20 (observed values only); the leading gap gets it, later gaps carry 10 forward
    assert X["y_lag1"].tolist() == [20.0, 20.0, 10.0, 10.0, 30.0]
    assert X["y_lag2"].tolist() == [20.0, 20.0, 20.0, 10.0, 10.0]
    assert X["y_roll2_mean"].tolist() == [20.0, 20.0, 15.0, 10.0, 20.0]


def test_txhousing_features_are_float_without_nan_and_exactly_the_expected_columns(tx):
    assert tx["y"].isna().any() and tx["listings"].isna().any()
    f = tx_featurizer().fit(tx)
    X = f.transform(tx)
    assert len(X) == len(tx) == 12 * 187 and X.index.equals(tx.index)
    assert list(X.columns) == f.feature_names_ and (X.dtypes == np.float64).all()
    assert not X.isna().any().any()
    # every feature family once, nothing more: lags 1, 2, 3 and the season, one 12-step window, unknown
    # covariates only at the horizon (lag 3), known ones also as of now
    assert f.feature_names_ == [
        "series_code", "series_mean", "time_index", "cal_year", "cal_quarter", "cal_month", "holidays_in_period",
        "y_lag1", "y_lag2", "y_lag3", "y_lag12", "y_roll12_mean", "y_roll12_min", "y_roll12_max", "y_roll12_std",
        "volume", "median", "listings_lag3", "inventory_lag3", "volume_lag3", "median_lag3",
        "stl_season", "stl_trend"]
    # rows come back in the input's order even when the input is shuffled
    shuffled = tx.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(f.transform(shuffled), X.loc[shuffled.index])


def test_series_codes_target_encoding_and_categorical_covariates():
    a = toy([1.0, 2.0, 3.0], uid="a").assign(store=["x", "y", None], price=[1.0, np.nan, 3.0])
    b = toy([10.0, 20.0, 30.0], uid="b").assign(store=["y", "y", "x"], price=[5.0, 6.0, 7.0])
    f = LagFeaturizer("MS", target_lags=[1], covariates=["store", "price"]).fit(pd.concat([a, b], ignore_index=True))
    X = f.transform(pd.concat([a, b], ignore_index=True))
    assert X["series_code"].tolist() == [0, 0, 0, 1, 1, 1]
    assert X["series_mean"].tolist() == [2.0, 2.0, 2.0, 20.0, 20.0, 20.0]
    assert X["store_code"].tolist() == [0, 1, -1, 1, 1, 0]
    assert X["price"].tolist() == [1.0, 1.0, 3.0, 5.0, 6.0, 7.0]  # forward filled
    new = toy([np.nan], start="2020-04-01", uid="c").assign(store=["z"], price=[np.nan])
    row = f.transform(new).iloc[0]
    assert (row["series_code"], row["store_code"]) == (-1.0, -1.0)
    assert row["series_mean"] == pytest.approx(11.0) and row["y_lag1"] == pytest.approx(11.0)  # global mean
    assert row["price"] == pytest.approx(np.mean([1.0, 3.0, 5.0, 6.0, 7.0]))


# ----------------------------------------------------------------------------- calendar and holidays
def test_daily_holidays_and_calendar():
    frame = toy(list(range(92)), start="2020-06-01", freq="D")
    X = LagFeaturizer("D", holidays_country="US").fit(frame).transform(frame).set_axis(frame["ds"])
    assert X.loc["2020-07-04", "is_holiday"] == 1.0
    assert X.loc["2020-07-03", "is_holiday"] == 1.0  # Independence Day (observed)
    assert X.loc["2020-07-06", "is_holiday"] == 0.0
    assert X.loc["2020-07-01", "days_to_holiday"] == 2.0
    assert X.loc["2020-07-06", "days_since_holiday"] == 2.0
    assert X.loc["2020-07-04", "cal_dayofweek"] == 5.0  # Saturday
    assert {"cal_day", "cal_dayofyear", "cal_weekofyear"} <= set(X.columns) and "cal_hour" not in X.columns


def test_monthly_and_weekly_holiday_counts():
    monthly = toy([1.0] * 12, start="2020-01-01")
    X = LagFeaturizer("MS", holidays_country="us").fit(monthly).transform(monthly).set_axis(monthly["ds"].dt.month)
    assert X.loc[12, "holidays_in_period"] >= 1
    assert X.loc[7, "holidays_in_period"] == 2.0  # July 3 (observed) and July 4
    assert X.loc[1, "holidays_in_period"] == 2.0  # New Year's Day and MLK Day
    assert [c for c in X.columns if c.startswith("cal_")] == ["cal_year", "cal_quarter", "cal_month"]
    weekly = toy([1.0] * 4, start="2020-06-28", freq="W-SUN")  # labelled by the Sunday that ends the week
    W = LagFeaturizer("W-SUN", holidays_country="US").fit(weekly).transform(weekly).set_axis(weekly["ds"])
    assert W.loc["2020-07-05", "holidays_in_period"] == 2.0 and W.loc["2020-07-12", "holidays_in_period"] == 0.0


def test_unknown_holiday_country_names_the_azure_parameter():
    with pytest.raises(ConfigError, match="country_or_region_for_holidays"):
        LagFeaturizer("MS", holidays_country="XX").fit(toy([1.0, 2.0]))


# ----------------------------------------------------------------------------- integer time
@pytest.mark.parametrize("step", [1, 5])
def test_integer_time_has_only_the_time_index(step):
    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(10, 10 + 8 * step, step, dtype=np.int64),
                          "y": np.arange(8, dtype=float) ** 2})
    f = LagFeaturizer(step, target_lags=[1, 2], rolling_window=2).fit(frame)
    X = f.transform(frame)
    assert not [c for c in X.columns if c.startswith("cal_")]
    assert X["time_index"].tolist() == list(range(8))
    assert X["y_lag2"].iloc[5] == 9.0
    with pytest.raises(ConfigError, match="country_or_region_for_holidays"):
        LagFeaturizer(step, holidays_country="US").fit(frame)


# ----------------------------------------------------------------------------- STL
def test_stl_season_and_trend(air):
    f = LagFeaturizer("MS", season_length=12, use_stl="season_trend").fit(air)
    future = pd.DataFrame({"unique_id": "__single__", "ds": pd.date_range("1961-01-01", periods=13, freq="MS")})
    X = f.transform(pd.concat([air, future], ignore_index=True)).set_axis(
        pd.concat([air["ds"], future["ds"]], ignore_index=True))
    season, trend = X["stl_season"], X["stl_trend"]
    for year in range(1949, 1961):
        cycle = season[str(year)]
        assert abs(cycle.sum()) <= 0.03 * cycle.abs().sum()
    assert season["1961-01-01"] == season["1960-01-01"] and season["1962-01-01"] == season["1960-01-01"]
    slope = (trend["1960-12-01"] - trend["1960-01-01"]) / 11
    assert trend["1961-01-01"] == pytest.approx(trend["1960-12-01"] + slope)
    assert trend["1961-06-01"] == pytest.approx(trend["1960-12-01"] + 6 * slope)
    # a series shorter than two seasons gets no STL: season 0, trend = its mean
    short = toy([5.0, 7.0, 9.0], uid="short")
    S = f.transform(short)
    assert S["stl_season"].tolist() == [0.0] * 3 and S["stl_trend"].tolist() == [pytest.approx(air["y"].mean())] * 3


# ----------------------------------------------------------------------------- training matrix and errors
def test_training_matrix_keeps_rows_with_an_observed_target_and_a_real_lag(tx):
    frame = toy([np.nan, 1.0, 2.0, np.nan, 4.0, 5.0]).assign(_padded=[False] * 5 + [True])
    f = LagFeaturizer("MS", target_lags=[2]).fit(frame)
    X, y, mask = training_matrix(f, frame)
    assert mask.tolist() == [False, False, False, False, True, False]
    assert y.tolist() == [4.0] and list(X.index) == [4] and "_padded" not in X.columns

    f = tx_featurizer().fit(tx)
    X, y, mask = training_matrix(f, tx)
    first = (tx.groupby("unique_id").cumcount() == 0).to_numpy()
    assert not mask[first].any() and not mask[tx["y"].isna().to_numpy()].any()
    assert np.array_equal(y, tx["y"].to_numpy()[mask])
    # exactly the rows with an observed y and an observed y at an earlier step of the same series
    observed = tx["y"].notna()
    seen_before = (observed.groupby(tx["unique_id"]).cumsum() - observed) > 0
    assert np.array_equal(mask, (observed & seen_before).to_numpy())
    assert len(X) == mask.sum() == 2244 - 319 - 12  # no y: 319 rows; each city's first observed y: 12 rows


def test_irregular_time_and_bad_parameters_fail_with_the_fix():
    gappy = toy([1.0, 2.0, 3.0]).drop(index=1)
    with pytest.raises(DataError, match="'ds'.*jump of 2 steps"):
        LagFeaturizer("MS").fit(gappy)
    off_grid = toy([1.0, 2.0]).assign(ds=pd.to_datetime(["2020-01-01", "2020-02-15"]))
    with pytest.raises(DataError, match="not on the freq='MS' grid"):
        LagFeaturizer("MS").fit(off_grid)
    with pytest.raises(ConfigError, match="rolling_window"):
        LagFeaturizer("MS", rolling_window=1).fit(toy([1.0, 2.0]))
    with pytest.raises(ConfigError, match="freq"):
        LagFeaturizer("not-a-freq").fit(toy([1.0, 2.0]))
    with pytest.raises(DataError, match="Covariate column"):
        LagFeaturizer("MS", covariates=["price"]).fit(toy([1.0, 2.0]))
