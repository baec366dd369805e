"""Statistical forecasters on real series: accuracy against the peer figures, exact baselines,
intervals, gaps, integer time, Arimax covariates, and Spark giving the same numbers as pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spark_automl.errors import ConfigError, DataError
from spark_automl.forecasting.statistical import forecast_series, spark_forecast
from spark_automl.models import REGISTRY, STATISTICAL

from ..conftest import dataset_csv

pytestmark = pytest.mark.extra("forecast")

LEVEL_COLUMNS = ["yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"]


def smape(actual, forecast) -> float:
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    return float(100 * np.mean(2 * np.abs(actual - forecast) / (np.abs(actual) + np.abs(forecast))))


@pytest.fixture(scope="module")
def airline() -> pd.DataFrame:
    raw = dataset_csv("airline_passengers")
    return pd.DataFrame({"unique_id": "air", "ds": pd.to_datetime(raw["month"]), "y": raw["passengers"].astype(float)})


@pytest.fixture(scope="module")
def txhousing() -> pd.DataFrame:
    raw = dataset_csv("txhousing")  # 12 cities
    return pd.DataFrame({"unique_id": raw["city"], "ds": pd.to_datetime(raw["date"]), "y": raw["sales"].astype(float)})


@pytest.fixture(scope="module")
def oj50() -> pd.DataFrame:
    """50 of the sample's 88 oj_sales series on their full integer-week grid (missing weeks as NaN rows)."""
    raw = dataset_csv("oj_sales")
    raw["unique_id"] = raw["store"].astype(str) + "|" + raw["brand"].astype(str)
    keep = sorted(raw["unique_id"].unique())[:50]
    raw = raw[raw["unique_id"].isin(keep)].rename(columns={"week": "ds", "logmove": "y"})
    parts = []
    for uid, series in raw.groupby("unique_id"):
        grid = pd.DataFrame({"ds": np.arange(series["ds"].min(), series["ds"].max() + 1, dtype="int64")})
        parts.append(grid.merge(series[["ds", "y"]], on="ds", how="left").assign(unique_id=uid))
    return pd.concat(parts, ignore_index=True)[["unique_id", "ds", "y"]]


def check_intervals(out: pd.DataFrame) -> None:
    assert not out[["yhat", *LEVEL_COLUMNS]].isna().any().any()
    assert (out["yhat_lo_95"] < out["yhat_lo_80"]).all() and (out["yhat_lo_80"] <= out["yhat"]).all()
    assert (out["yhat"] <= out["yhat_hi_80"]).all() and (out["yhat_hi_80"] < out["yhat_hi_95"]).all()


def test_airline_accuracy_matches_the_peer_figures(airline):
    train, test = airline.iloc[:-12], airline.iloc[-12:]
    scores = {}
    for model in ("SeasonalNaive", "ExponentialSmoothing", "AutoArima"):
        out = forecast_series(train, model, 12, "MS", 12)
        assert list(out.columns) == ["unique_id", "ds", "yhat", *LEVEL_COLUMNS]
        assert list(out["ds"]) == list(pd.date_range("1960-01-01", periods=12, freq="MS"))
        check_intervals(out)
        scores[model] = smape(test["y"], out["yhat"])
    assert scores["SeasonalNaive"] == pytest.approx(10.57, abs=0.5)
    assert scores["AutoArima"] < 6
    assert scores["ExponentialSmoothing"] < scores["SeasonalNaive"]
    assert scores["AutoArima"] < scores["SeasonalNaive"]


def test_baselines_are_exact(airline):
    train = airline.iloc[:-12]
    y = train["y"].to_numpy()
    seasonal = forecast_series(train, "SeasonalNaive", 15, "MS", 12)["yhat"].to_numpy()
    np.testing.assert_array_equal(seasonal[:12], y[-12:])
    np.testing.assert_array_equal(seasonal[12:], y[-12:-9])  # wraps to the same season again
    np.testing.assert_array_equal(forecast_series(train, "Naive", 5, "MS", 12)["yhat"], np.full(5, y[-1]))
    np.testing.assert_allclose(forecast_series(train, "Average", 5, "MS", 12)["yhat"], np.full(5, y.mean()))


def test_seasonal_average_carries_the_last_season_mean_with_residual_intervals(airline):
    train = airline.iloc[:-12]
    y = train["y"].to_numpy()
    out = forecast_series(train, "SeasonalAverage", 6, "MS", 12)
    np.testing.assert_allclose(out["yhat"], np.full(6, y[-12:].mean()))
    check_intervals(out)
    fitted = pd.Series(y).rolling(12).mean().shift(1).to_numpy()
    sigma = np.sqrt(np.nanmean((y - fitted) ** 2))
    expected = 1.959963984540054 * sigma * np.sqrt(np.arange(1, 7))
    np.testing.assert_allclose(out["yhat_hi_95"] - out["yhat"], expected, rtol=1e-9)


def test_short_series_fall_back_to_the_non_seasonal_model(airline):
    short = airline.iloc[:20]  # under two seasons of 12
    y = short["y"].to_numpy()
    np.testing.assert_array_equal(forecast_series(short, "SeasonalNaive", 3, "MS", 12)["yhat"], np.full(3, y[-1]))
    np.testing.assert_allclose(forecast_series(short, "SeasonalAverage", 3, "MS", 12)["yhat"], np.full(3, y.mean()))


def test_missing_target_is_interpolated_within_the_series():
    ds = pd.date_range("2021-01-01", periods=6, freq="D")
    history = pd.DataFrame({"unique_id": ["a"] * 6 + ["b"] * 6, "ds": list(ds) * 2,
                            "y": [1.0, np.nan, 3.0, 4.0, 5.0, np.nan, np.nan, 10.0, np.nan, 30.0, 40.0, 50.0],
                            "_padded": [False] * 12})
    out = forecast_series(history, "Average", 2, "D", 1)
    # a: 1, 2, 3, 4, 5, 5 (interpolated, then carried forward); b: 10, 10, 20, 30, 40, 50
    np.testing.assert_allclose(out["yhat"], [20 / 6] * 2 + [160 / 6] * 2)
    assert list(out["ds"]) == [pd.Timestamp("2021-01-07"), pd.Timestamp("2021-01-08")] * 2


def test_spark_gives_the_same_numbers_on_all_txhousing_series(spark, txhousing):
    assert txhousing["y"].isna().sum() == 319  # the gaps are real
    for model in ("SeasonalNaive", "ExponentialSmoothing"):
        local = forecast_series(txhousing, model, 6, "MS", 12)
        spread = spark_forecast(spark, txhousing, model, 6, "MS", 12)
        assert len(local) == len(spread) == 12 * 6
        assert not local.isna().any().any()
        pd.testing.assert_frame_equal(local[["unique_id", "ds"]], spread[["unique_id", "ds"]])
        np.testing.assert_allclose(spread[["yhat", *LEVEL_COLUMNS]], local[["yhat", *LEVEL_COLUMNS]], rtol=0, atol=1e-8)


def test_integer_weeks(spark, oj50):
    out = forecast_series(oj50, "SeasonalNaive", 12, 1, 52)
    assert len(out) == 50 * 12 and out["ds"].dtype == np.int64
    for uid, series in list(oj50.groupby("unique_id"))[:5]:
        last = int(series["ds"].max())
        rows = out[out["unique_id"] == uid]
        assert list(rows["ds"]) == list(range(last + 1, last + 13))
        season_ago = series.set_index("ds")["y"].interpolate(limit_area="inside")
        np.testing.assert_allclose(rows["yhat"], season_ago.loc[last - 51:last - 40].to_numpy())
    naive = forecast_series(oj50, "Naive", 3, 1, 52)
    last_y = oj50.dropna().groupby("unique_id")["y"].last()
    np.testing.assert_allclose(naive.groupby("unique_id")["yhat"].first(), last_y.sort_index())
    spread = spark_forecast(spark, oj50, "SeasonalNaive", 12, 1, 52, n_buckets=3)
    assert spread["ds"].dtype == np.int64
    np.testing.assert_allclose(spread[["yhat", *LEVEL_COLUMNS]], out[["yhat", *LEVEL_COLUMNS]], atol=1e-8)


def test_prophet_on_airline(airline):
    train, test = airline.iloc[:-12], airline.iloc[-12:]
    out = forecast_series(train, "Prophet", 12, "MS", 12)
    assert len(out) == 12 and list(out["ds"]) == list(test["ds"])
    check_intervals(out)
    assert smape(test["y"], out["yhat"]) < 10


def test_prophet_maps_integer_steps_and_back(oj50):
    one = oj50[oj50["unique_id"] == oj50["unique_id"].iloc[0]]
    out = forecast_series(one, "Prophet", 4, 1, 52)
    last = int(one["ds"].max())
    assert list(out["ds"]) == [last + 1, last + 2, last + 3, last + 4]
    check_intervals(out)


@pytest.fixture(scope="module")
def driven_by_x() -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """y = 10 + 2.5 x + noise, with x white noise: only a model that sees x can forecast y."""
    rng = np.random.default_rng(0)
    frames = []
    for uid in ("a", "b", "c"):
        x = 3 * rng.normal(size=110)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2020-01-01", periods=110, freq="D"),
                                    "y": 10 + 2.5 * x + 0.5 * rng.normal(size=110), "x": x, "shop": "k"}))
    full = pd.concat(frames, ignore_index=True)
    future = full.groupby("unique_id").tail(10)
    return full.groupby("unique_id").head(100), future.drop(columns="y"), future["y"].to_numpy()


def test_arimax_uses_future_covariates(spark, driven_by_x):
    history, future, truth = driven_by_x
    arimax = forecast_series(history, "Arimax", 10, "D", 1, future_covariates=future, covariates=["x", "shop"])
    plain = forecast_series(history, "AutoArima", 10, "D", 1)
    mae_x, mae_plain = np.mean(np.abs(arimax["yhat"] - truth)), np.mean(np.abs(plain["yhat"] - truth))
    assert mae_x < 0.6 and mae_plain > 3 * mae_x
    check_intervals(arimax)
    spread = spark_forecast(spark, history, "Arimax", 10, "D", 1, future_covariates=future, covariates=["x", "shop"])
    np.testing.assert_allclose(spread[["yhat", *LEVEL_COLUMNS]], arimax[["yhat", *LEVEL_COLUMNS]], atol=1e-8)


def test_arimax_without_future_covariates_names_them(spark, driven_by_x):
    history, future, _ = driven_by_x
    for call in (lambda: forecast_series(history, "Arimax", 10, "D", 1, covariates=["x"]),
                 lambda: spark_forecast(spark, history, "Arimax", 10, "D", 1, covariates=["x"])):
        with pytest.raises(ConfigError, match=r"\['x'\].*future_covariates"):
            call()
    with pytest.raises(DataError, match="no row for some of the 10 horizon steps of 3 series"):
        forecast_series(history, "Arimax", 10, "D", 1, future_covariates=future.iloc[::2], covariates=["x"])


def test_bad_arguments_say_what_to_do(airline):
    with pytest.raises(ConfigError, match="Valid choices: .*SeasonalNaive"):
        forecast_series(airline, "Theta", 3, "MS", 12)
    with pytest.raises(ConfigError, match="freq=1 does not fit the time column 'ds'"):
        forecast_series(airline, "Naive", 3, 1, 12)
    with pytest.raises(ConfigError, match="levels"):
        forecast_series(airline, "Naive", 3, "MS", 12, levels=(80, 100))
    with pytest.raises(DataError, match="no observed 'y'"):
        forecast_series(airline.assign(y=np.nan), "Naive", 3, "MS", 12)
    statistical = {s.name for s in REGISTRY.for_task("forecasting") if s.kind == STATISTICAL}
    assert statistical == {"Naive", "SeasonalNaive", "Average", "SeasonalAverage", "ExponentialSmoothing",
                           "MSTL", "AutoArima", "Arimax", "Prophet"}


def test_mstl_models_the_day_and_the_week_of_hourly_data():
    from spark_automl.models.statistical import mstl_seasons

    assert mstl_seasons(24) == [24, 168] and mstl_seasons(12) == [12] and mstl_seasons(48) == [48, 336]
    rng = np.random.default_rng(0)
    t = np.arange(6 * 168)
    weekend = ((t // 24) % 7 >= 5).astype(float)
    y = 50 + 10 * np.sin(2 * np.pi * t / 24) - 15 * weekend + rng.normal(0, 1.0, len(t))
    frame = pd.DataFrame({"unique_id": "load", "ds": pd.date_range("2024-01-01", periods=len(t), freq="h"), "y": y})
    train, test = frame.iloc[:-48], frame.iloc[-48:]
    errors = {}
    for model in ("MSTL", "ExponentialSmoothing", "SeasonalNaive"):
        out = forecast_series(train, model, 48, "h", 24, levels=(80,))
        errors[model] = float(np.mean(np.abs(out["yhat"].to_numpy() - test["y"].to_numpy())))
        assert out[["yhat_lo_80", "yhat_hi_80"]].notna().all().all()
    assert errors["MSTL"] < 0.5 * errors["ExponentialSmoothing"] and errors["MSTL"] < 0.5 * errors["SeasonalNaive"]
    short = forecast_series(train.iloc[-200:], "MSTL", 4, "h", 24, levels=(80,))  # < 2 weeks: non-seasonal ETS
    assert np.isfinite(short["yhat"]).all()


def test_interval_widths_interpolate_between_the_kept_levels():
    from spark_automl.forecasting.forecasters import _level_value

    kept = {80: 8.0, 95: 12.0, 50: 4.0}
    assert _level_value(kept, 80) == 8.0
    assert _level_value(kept, 90) == pytest.approx(8.0 + 4.0 * 10 / 15)
    assert _level_value(kept, 25) == pytest.approx(2.0)  # towards 0 at level 0
    assert _level_value(kept, 99) == 12.0  # beyond the widest: the widest


def test_pinball_loss_and_coverage():
    from spark_automl.forecasting.metrics import interval_coverage, pinball_loss

    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert pinball_loss(y, y, 0.9) == 0.0
    assert pinball_loss(y, y - 1.0, 0.9) == pytest.approx(0.9) and pinball_loss(y, y + 1.0, 0.9) == pytest.approx(0.1)
    assert interval_coverage(y, y - 0.5, [1.5, 1.0, 3.5, np.nan]) == pytest.approx(2 / 3)


def test_conformal_intervals_scale_with_each_series_and_the_step():
    from spark_automl.forecasting.forecasters import ConformalIntervals
    from spark_automl.forecasting.settings import SERIES_ID, TARGET, TIME

    t = pd.date_range("2020-01-01", periods=20, freq="D")
    history = pd.concat([pd.DataFrame({SERIES_ID: "small", TIME: t, TARGET: np.arange(20.0)}),        # scale 1
                         pd.DataFrame({SERIES_ID: "large", TIME: t, TARGET: np.arange(20.0) * 10})])  # scale 10
    future = pd.DataFrame({SERIES_ID: ["small", "small", "large"], TIME: [t[-1] + pd.Timedelta(days=k) for k in (1, 2, 1)]})
    out = future.assign(yhat=[20.0, 21.0, 200.0])
    got = ConformalIntervals({80: 2.0, 95: 3.0}, season_length=1).apply(out, future, history, (80, 90))
    half80 = got["yhat_hi_80"] - got["yhat"]
    np.testing.assert_allclose(half80, [2.0, 2.0 * np.sqrt(2.0), 20.0])  # q x scale x sqrt(step + 1)
    np.testing.assert_allclose(got["yhat"] - got["yhat_lo_80"], half80)
    np.testing.assert_allclose(got["yhat_hi_90"] - got["yhat"], half80 * (2.0 + 2.0 / 3.0) / 2.0)  # 2/3 of 80 -> 95


def test_a_few_series_are_forecast_on_the_driver_and_a_panel_through_spark(spark, txhousing):
    """The forecast chart and the logged example ask for a handful of series: no Spark job for them."""
    from spark_automl.forecasting import forecasters
    from spark_automl.forecasting.forecasters import StatisticalForecaster
    from spark_automl.forecasting.settings import SERIES_ID, TIME

    tracker = spark.sparkContext.statusTracker()
    model = StatisticalForecaster("SeasonalNaive", "MS", 12, spark=spark).fit(txhousing)
    last = txhousing.groupby(SERIES_ID)[TIME].max()
    future = pd.DataFrame([(uid, t + pd.DateOffset(months=k)) for uid, t in last.items() for k in (1, 2)],
                          columns=[SERIES_ID, TIME])
    few = future[future[SERIES_ID].isin(last.index[:3])]
    jobs_before = len(tracker.getJobIdsForGroup(None) or []) + len(tracker.getActiveJobsIds())
    on_driver = model.predict(few, levels=())
    assert len(tracker.getJobIdsForGroup(None) or []) + len(tracker.getActiveJobsIds()) == jobs_before
    alone = StatisticalForecaster("SeasonalNaive", "MS", 12).fit(txhousing).predict(few, levels=())
    pd.testing.assert_frame_equal(on_driver, alone)
    assert forecasters.SPARK_FORECAST_MIN_SERIES > 3  # the premise: 3 series are "a few"
