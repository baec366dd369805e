"""Every requested series gets a forecast: series too short for the search get a fallback their
length supports, unknown series are reported without failing the request, forecasts reach past the
horizon and across a gap after the training data."""

import warnings

import numpy as np
import pandas as pd
import pytest

from spark_automl import AutoMLConfig, Experiment
from spark_automl.forecasting.fallback import DEFAULT, choose_fallback
from spark_automl.forecasting.forecasters import ConformalIntervals
from spark_automl.forecasting.model import UnknownSeriesWarning
from spark_automl.forecasting.statistical import forecast_series

from ..conftest import dataset_csv

pytestmark = pytest.mark.extra("forecast")

IDS = ["store", "brand"]


def _seasonal(uid: str, n: int, period: int = 4, level: float = 10.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pattern = np.array([0.0, 5.0, -3.0, 8.0])[:period]
    y = level + np.tile(pattern, n // period + 1)[:n] + rng.normal(0, 0.3, n)
    return pd.DataFrame({"unique_id": uid, "ds": np.arange(n), "y": y})


def test_fallback_is_chosen_on_the_short_series_own_holdout():
    short = pd.concat([_seasonal(f"s{i}", 12, seed=i) for i in range(6)], ignore_index=True)
    choice = choose_fallback(short, season_length=4, horizon=4, freq=1)
    assert choice.validated_series == 6 and set(choice.scores) >= {"SeasonalNaive", "Naive", "Average"}
    assert choice.model == "SeasonalNaive"  # a clean seasonal pattern: repeating the last season wins
    assert choice.scores["SeasonalNaive"] < choice.scores["Naive"]
    tiny = pd.DataFrame({"unique_id": "t", "ds": [0, 1, 2], "y": [1.0, 2.0, 3.0]})
    assert choose_fallback(tiny, 4, 4, 1).model == DEFAULT  # nothing to validate on


def test_interval_half_width_past_the_validated_steps_widens():
    t = pd.date_range("2020-01-01", periods=10, freq="D")
    history = pd.DataFrame({"unique_id": "s", "ds": t, "y": np.arange(10.0)})  # seasonal-naive scale 1
    future = pd.DataFrame({"unique_id": "s", "ds": pd.date_range("2020-01-11", periods=6, freq="D")})
    got = ConformalIntervals({80: 1.0}, season_length=1).apply(future.assign(yhat=0.0), future, history, (80,))
    np.testing.assert_allclose(got["yhat_hi_80"], np.sqrt(np.arange(1, 7)))  # as a random walk's, past any horizon


@pytest.fixture(scope="module")
def panel():
    """Ten oj_sales series, and two more cut to their last 6 weeks (the search needs 8)."""
    oj = dataset_csv("oj_sales")[["store", "brand", "week", "logmove"]]
    keys = oj.groupby(IDS).size().index[:12]
    oj = oj[pd.MultiIndex.from_frame(oj[IDS]).isin(keys)]
    short_keys = keys[10:]
    is_short = pd.MultiIndex.from_frame(oj[IDS]).isin(short_keys)
    recent = oj["week"] > oj.groupby(IDS)["week"].transform("max") - 6
    return pd.concat([oj[~is_short], oj[is_short & recent]], ignore_index=True), [f"{s}|{b}" for s, b in short_keys]


@pytest.fixture(scope="module")
def run(spark, panel, tmp_path_factory):
    data, _ = panel
    cfg = AutoMLConfig(task="forecasting", training_data=data, label_column_name="logmove", time_column_name="week",
                       time_series_id_column_names=IDS, forecast_horizon=4, n_cross_validations=2, iterations=2,
                       seed=0, allowed_models=["SeasonalNaive", "ExponentialSmoothing"],
                       enable_voting_ensemble=False)
    uri = f"sqlite:///{tmp_path_factory.mktemp('every')}/mlflow.db"
    return Experiment("every-series", spark=spark, tracking_uri=uri).submit(cfg)


def _uid(frame: pd.DataFrame) -> pd.Series:
    return frame["store"].astype(str) + "|" + frame["brand"].astype(str)


@pytest.mark.spark
def test_a_series_too_short_for_the_search_is_forecast_by_the_named_fallback(run, panel):
    data, short = panel
    out = run.forecast()
    assert len(out) == 12 * 4 and np.isfinite(out["prediction"]).all()
    assert set(_uid(out)) >= set(short)
    table = run.series_models().set_index("unique_id")
    assert len(table) == 12
    fallback = table.loc[short[0], "model"]
    assert fallback in ("SeasonalNaive", "ExponentialSmoothing", "Naive", "Average")
    assert "shorter than the 8 steps" in table.loc[short[0], "reason"]
    assert (table.drop(index=short)["model"] == run.best.model).all()
    # the fallback's forecasts are that model's, fit on the short series' own history
    history = data[_uid(data).isin(short)].rename(columns={"week": "ds", "logmove": "y"})
    history = history.assign(unique_id=_uid(history))
    expected = forecast_series(history, fallback, 4, 1, run.info["season_length"], levels=(80,))
    got = out[_uid(out).isin(short)].assign(unique_id=lambda f: _uid(f))
    merged = got.merge(expected, left_on=["unique_id", "week"], right_on=["unique_id", "ds"])
    assert len(merged) == 8 and np.allclose(merged["prediction"], merged["yhat"])


@pytest.mark.spark
def test_unknown_series_are_reported_and_the_rest_forecast(run, panel):
    data, _ = panel
    last = data.groupby(IDS)["week"].max().reset_index()
    future = pd.concat([last.assign(week=last["week"] + 1)[[*IDS, "week"]],
                        pd.DataFrame({"store": [999], "brand": [1], "week": [150]})], ignore_index=True)
    with pytest.warns(UnknownSeriesWarning, match=r"1 series .*\['999\|1'\]"):
        out = run.forecast(future)
    assert len(out) == 13
    assert out["prediction"].iloc[-1] != out["prediction"].iloc[-1]  # NaN for the unknown series
    assert np.isfinite(out["prediction"].iloc[:-1]).all()


@pytest.mark.spark
def test_forecasts_reach_past_the_horizon_and_across_a_gap(run, panel):
    data, _ = panel
    model = run.model
    last = data.groupby(IDS)["week"].max().reset_index()
    beyond = last.assign(week=last["week"] + 7)[[*IDS, "week"]]  # only step 7 of a 4-step horizon
    with pytest.warns(UserWarning, match="past forecast_horizon=4"):
        out = model.forecast(beyond)
    assert len(out) == 12 and np.isfinite(out["prediction"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = model.forecast(last.assign(week=last["week"] + 7)[[*IDS, "week"]].iloc[:0])
    assert path.empty
    full = model.forecast(pd.concat([last.assign(week=last["week"] + k)[[*IDS, "week"]] for k in range(1, 8)]))
    step7 = full.merge(out, on=[*IDS, "week"], suffixes=("", "_gap"))
    assert np.allclose(step7["prediction"], step7["prediction_gap"])  # the gap changes nothing
    assert (step7["prediction_upper_95"] >= step7["prediction_upper_80"]).all()
    too_far = last.assign(week=last["week"] + 1000)[[*IDS, "week"]]
    with pytest.raises(Exception, match="within 100 steps"):
        model.forecast(too_far)


@pytest.mark.spark
def test_a_run_that_only_finished_baselines_says_so(spark, panel, tmp_path):
    from spark_automl.tasks.forecasting import BaselineOnlyWarning

    data, _ = panel
    uri = f"sqlite:///{tmp_path}/mlflow.db"

    def submit(models, iterations):
        cfg = AutoMLConfig(task="forecasting", training_data=data, label_column_name="logmove",
                           time_column_name="week", time_series_id_column_names=IDS, forecast_horizon=4,
                           n_cross_validations=2, iterations=iterations, seed=0, allowed_models=models,
                           enable_voting_ensemble=False)
        return Experiment("baselines", spark=spark, tracking_uri=uri).submit(cfg)

    with pytest.warns(BaselineOnlyWarning, match=r"Only baseline forecasters finished \(Naive\)"):
        run = submit(["Naive", "ExponentialSmoothing"], 1)
    assert run.best.model == "Naive"
    with warnings.catch_warnings():
        warnings.simplefilter("error", BaselineOnlyWarning)
        submit(["Naive", "SeasonalNaive"], 2)  # only baselines were allowed: nothing to warn about


@pytest.mark.spark
def test_actuals_move_the_origin_of_their_own_series_only(run, panel):
    """Context for two series (one a fallback series): those are forecast from their last actual, each by
    its own model refit on history + actuals; the other series are forecast as without context."""
    data, short = panel
    last = data.groupby(IDS)["week"].max().reset_index()
    future = pd.concat([last.assign(week=last["week"] + k)[[*IDS, "week"]] for k in range(1, 5)], ignore_index=True)
    uid = _uid(future)
    chosen = [short[0], _uid(last).iloc[0]]
    y = np.where(uid.isin(chosen) & (future["week"] <= future.groupby(uid)["week"].transform("min") + 1), 12.0, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain, moved = run.forecast(future), run.forecast(future, y)
    untouched = ~uid.isin(chosen).to_numpy()
    np.testing.assert_allclose(moved["prediction"][untouched], plain["prediction"][untouched])
    assert moved["prediction"][~np.isnan(y)].isna().all()
    wanted = uid.isin(chosen).to_numpy() & np.isnan(y)
    assert not np.allclose(moved["prediction"][wanted], plain["prediction"][wanted])
    fallback = run.series_models().set_index("unique_id").loc[short[0], "model"]
    history = data[_uid(data) == short[0]].rename(columns={"week": "ds", "logmove": "y"}).assign(unique_id=short[0])
    context = future[(uid == short[0]).to_numpy() & ~np.isnan(y)].rename(columns={"week": "ds"})
    history = pd.concat([history, context.assign(unique_id=short[0], y=12.0)])[["unique_id", "ds", "y"]]
    expected = forecast_series(history, fallback, 2, 1, run.info["season_length"], levels=(80,))
    got = moved[(uid == short[0]).to_numpy() & np.isnan(y)]
    np.testing.assert_allclose(got["prediction"], expected["yhat"])
    rolled = run.rolling_forecast(future, np.full(len(future), 10.0), step=2)
    assert len(rolled) == len(future) + len(future) // 2 and rolled["_automl_actual_y"].eq(10.0).all()
