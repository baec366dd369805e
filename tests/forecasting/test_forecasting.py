"""Forecasting end to end on real series (tests/datasets): local Spark, a real MLflow store, real models."""

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, ConfigError, DataError, Experiment, ForecastingParameters, forecast_spark
from spark_automl.scoring import local_model_path

from ..conftest import dataset_csv

pytestmark = [pytest.mark.spark, pytest.mark.extra("forecast")]


def _smape(a, p) -> float:
    a, p = np.asarray(a, float), np.asarray(p, float)
    return float(np.mean(200 * np.abs(a - p) / (np.abs(a) + np.abs(p))))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("forecast")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(path)
        yield f"sqlite:///{path}/mlflow.db"


@pytest.fixture(scope="module")
def airline():
    return dataset_csv("airline_passengers")


@pytest.fixture(scope="module")
def airline_run(spark, store, airline):
    """Train on 1949-1959, hold out 1960."""
    cfg = AutoMLConfig(task="forecasting", training_data=airline.iloc[:-12], label_column_name="passengers",
                       forecasting_parameters=ForecastingParameters(time_column_name="month", forecast_horizon=12),
                       n_cross_validations=2, iterations=10, seed=0, primary_metric="normalized_mean_absolute_error",
                       allowed_models=["Naive", "SeasonalNaive", "ExponentialSmoothing", "AutoArima", "LightGBM",
                                       "ElasticNet"])
    return Experiment("airline", spark=spark, tracking_uri=store).submit(cfg)


def test_airline_best_model_beats_seasonal_naive_on_the_held_out_year(airline_run, airline):
    out = airline_run.forecast()
    assert len(out) == 12 and list(out.columns[:2]) == ["month", "prediction"]
    assert list(out["month"]) == list(pd.date_range("1960-01-01", periods=12, freq="MS"))  # horizon + frequency
    actual = airline["passengers"].iloc[-12:].to_numpy()
    seasonal_naive = airline["passengers"].iloc[-24:-12].to_numpy()
    assert _smape(actual, out["prediction"]) < _smape(actual, seasonal_naive)
    assert (out["prediction_lower_95"] <= out["prediction_lower_80"]).all()
    assert (out["prediction_lower_80"] <= out["prediction"]).all() and (out["prediction"] <= out["prediction_upper_80"]).all()
    board = airline_run.leaderboard
    assert {"MASE", "series_median_MASE", "scaled_CRPS"} <= set(board.columns)
    assert (board["scaled_CRPS"].dropna() > 0).all() and board["scaled_CRPS"].notna().any()
    sn = board.loc[board["model"] == "SeasonalNaive", "normalized_mean_absolute_error"].iloc[0]
    assert board.iloc[0]["normalized_mean_absolute_error"] <= sn


def test_airline_quantiles_are_the_interval_bounds_and_score_on_the_held_out_year(airline_run, airline):
    from spark_automl.forecasting.metrics import pinball_loss

    point = airline_run.forecast()
    q = airline_run.forecast_quantiles(quantiles=[0.025, 0.1, 0.5, 0.9, 0.975])
    assert list(q.columns) == ["month", "0.025", "0.1", "0.5", "0.9", "0.975"]
    np.testing.assert_allclose(q["0.5"], point["prediction"])
    np.testing.assert_allclose(q["0.1"], point["prediction_lower_80"])
    np.testing.assert_allclose(q["0.975"], point["prediction_upper_95"])
    assert (q["0.025"] <= q["0.1"]).all() and (q["0.1"] <= q["0.5"]).all() and (q["0.5"] <= q["0.9"]).all()
    other = airline_run.forecast_quantiles(quantiles=[0.3, 0.7])  # any level, not only 80/95
    assert (other["0.3"] <= point["prediction"]).all() and (other["0.3"] >= q["0.1"]).all()
    actual = airline["passengers"].iloc[-12:].to_numpy()
    seasonal_naive = airline["passengers"].iloc[-24:-12].to_numpy()
    assert pinball_loss(actual, q["0.5"], 0.5) < pinball_loss(actual, seasonal_naive, 0.5)  # the median beats last year
    assert pinball_loss(actual, q["0.9"], 0.9) > 0 and np.isfinite(pinball_loss(actual, q["0.1"], 0.1))
    with pytest.raises(ConfigError, match="between 0.005 and 0.995"):
        airline_run.forecast_quantiles(quantiles=[1.5])


def test_airline_model_is_logged_registered_and_forecasts_the_same_from_mlflow(airline_run, store, spark):
    import mlflow.pyfunc

    version = airline_run.register_model("airline-forecaster")
    client = MlflowClient(store, registry_uri=store)
    assert client.get_model_version_by_alias("airline-forecaster", "champion").version == version.version
    future = airline_run.forecast()[["month"]]
    loaded = mlflow.pyfunc.load_model(local_model_path("models:/airline-forecaster@champion", store))
    np.testing.assert_allclose(loaded.predict(future)["prediction"], airline_run.forecast(future)["prediction"])
    actuals = np.r_[[420.0, 400.0, 430.0], np.full(9, np.nan)]  # the label column gives context when served
    np.testing.assert_allclose(loaded.predict(future.assign(passengers=actuals))["prediction"],
                               airline_run.forecast(future, actuals)["prediction"], equal_nan=True)
    scored = forecast_spark(spark, spark.createDataFrame(future), "models:/airline-forecaster@champion",
                            tracking_uri=store).toPandas()
    np.testing.assert_allclose(scored.sort_values("month")["prediction"], airline_run.forecast(future)["prediction"])
    best_run = airline_run.tracker.child_run_ids[airline_run.best.iteration]
    names = [f.path for f in client.list_artifacts(best_run, "charts")]
    assert {"charts/forecast_vs_actual.png", "charts/forecast.png"} <= set(names)


def test_forecast_rejects_times_off_the_grid_or_before_the_end_and_reaches_past_the_horizon(airline_run):
    for when in ("1959-06-01", "1960-01-15", "1990-01-01"):  # before the end, off the monthly grid, too far
        with pytest.raises(DataError, match="is not a step of freq .* within 240 steps"):
            airline_run.forecast(pd.DataFrame({"month": [when]}))
    with pytest.warns(UserWarning, match="18 steps ahead, past forecast_horizon=12"):
        far = airline_run.forecast(pd.DataFrame({"month": ["1961-06-01"]}))
    assert len(far) == 1 and np.isfinite(far["prediction"]).all()
    with pytest.raises(DataError, match="missing column"):
        airline_run.forecast(pd.DataFrame({"when": ["1960-01-01"]}))


def test_actuals_after_the_training_data_move_the_forecast_origin(airline_run, airline):
    """Azure's forecast(X, y): known y values after the training end are context, NaN rows are forecast."""
    year = airline.iloc[-12:][["month"]].reset_index(drop=True)
    plain = airline_run.forecast(year)
    none_known = airline_run.forecast(year, np.full(12, np.nan))
    pd.testing.assert_frame_equal(none_known, plain)  # no actuals: the same forecast
    actual = airline["passengers"].iloc[-12:].to_numpy(float)
    high = np.r_[actual[:6] * 2, np.full(6, np.nan)]  # the first half year at twice its level
    shifted = airline_run.forecast(year, high)
    assert shifted["prediction"].iloc[:6].isna().all() and len(shifted) == 12  # actuals get no forecast
    after, before = shifted["prediction"].iloc[6:].to_numpy(), plain["prediction"].iloc[6:].to_numpy()
    assert after[0] > 1.1 * before[0] and after.mean() > before.mean()  # forecast from the new level
    assert (shifted["prediction_upper_80"].iloc[6:] > shifted["prediction"].iloc[6:]).all()
    gap = airline_run.forecast(year.iloc[[0, 1, 2, 8]], np.r_[actual[:3], np.nan])  # a gap after the actuals
    assert np.isfinite(gap["prediction"].iloc[3])
    to_march = airline_run.forecast(forecast_destination="1960-03-01")
    pd.testing.assert_frame_equal(to_march, plain.iloc[:3])
    with pytest.raises(DataError, match="y_pred has 11 values for 12 X_future rows"):
        airline_run.forecast(year, actual[:11])
    with pytest.raises(DataError, match="not a step of freq .* last known time 1960-06-01"):
        airline_run.forecast(year.iloc[[3, 5]], [np.nan, actual[5]])  # a forecast before the last actual


def test_test_rows_are_forecast_from_rolling_origins_and_scored_with_mase(airline_run, airline):
    year = airline.iloc[-12:].reset_index(drop=True)
    preds, metrics = airline_run.test(data=year)
    forecast = airline_run.forecast(year[["month"]])["prediction"].to_numpy()  # one origin: the 12-month horizon
    np.testing.assert_allclose(preds["_automl_forecast_y"], forecast)
    history = airline["passengers"].iloc[:-12].to_numpy(float)
    scale = np.mean(np.abs(history[12:] - history[:-12]))  # seasonal naive on the training years
    assert metrics["MASE"] == pytest.approx(np.mean(np.abs(year["passengers"] - forecast)) / scale, rel=1e-9)
    assert metrics["normalized_mean_absolute_error"] > 0
    child = next(airline_run.get_children(type="automl.model_test"))
    assert child.get_metrics()["MASE"] == pytest.approx(metrics["MASE"])
    with pytest.raises(DataError, match="lack the label column 'passengers'"):
        airline_run.test(data=year[["month"]])


def test_a_global_learner_is_explained_by_its_lag_and_calendar_features(airline_run, store):
    learner = next(r for r in airline_run.results if r.model in ("LightGBM", "ElasticNet") and r.status == "ok")
    importance = airline_run.explain(learner.iteration)
    assert {"y_lag1", "y_lag12", "cal_month"} <= set(importance["feature"])
    assert importance["method"].str.startswith("permutation (one-step-ahead MAE increase").all()
    by_kind = importance.groupby("kind")["share"].sum()
    assert by_kind["target lag"] + by_kind.get("target rolling window", 0) > 0.5  # airline is autoregressive
    assert importance["share"].sum() == pytest.approx(1.0)
    names = [f.path for f in MlflowClient(store).list_artifacts(
        airline_run.tracker.child_run_ids[learner.iteration], "explanations")]
    assert {"explanations/feature_importance.csv", "explanations/feature_importance.png"} <= set(names)
    statistical = next(r for r in airline_run.results if r.model == "SeasonalNaive")
    with pytest.raises(ConfigError, match="no global learner to explain"):
        airline_run.explain(statistical.iteration, log=False)


def test_generated_code_rebuilds_the_best_child_and_its_score(airline_run, airline):
    best = airline_run.best
    files = airline_run.generate_code(best.iteration, log=False)
    script = files["training_script.py"]
    assert f"LOGGED_SCORE = {best.score!r}" in script and "MEMBERS = [" in script
    compile(files["training_notebook.py"], "training_notebook.py", "exec")
    namespace = {"__name__": "generated"}
    exec(compile(script, "training_script.py", "exec"), namespace)  # noqa: S102 - the code under test
    score, model = namespace["main"](airline.iloc[:-12])
    assert score == pytest.approx(best.score, rel=1e-9)  # the same preparation, origins and members
    np.testing.assert_allclose(model.forecast()["prediction"], airline_run.forecast()["prediction"], rtol=1e-6)


def test_rolling_forecast_moves_the_origin_over_the_test_year(airline_run, airline):
    year = airline.iloc[-12:][["month"]].reset_index(drop=True)
    actual = airline["passengers"].iloc[-12:].to_numpy(float)
    rolled = airline_run.rolling_forecast(year, actual, step=4)
    assert list(rolled.columns) == ["month", "_automl_forecast_origin", "horizon", "_automl_forecast_y",
                                    "_automl_actual_y"]
    assert len(rolled) == 12 + 8 + 4  # origins at the training end and 4 and 8 months into the year
    origins = rolled.groupby("_automl_forecast_origin")["horizon"].agg(["min", "max", "count"])
    assert list(origins.index) == list(pd.to_datetime(["1959-12-01", "1960-04-01", "1960-08-01"]))
    assert origins["min"].eq(1).all() and list(origins["count"]) == [12, 8, 4]
    first = rolled[rolled["_automl_forecast_origin"] == pd.Timestamp("1959-12-01")]
    np.testing.assert_allclose(first["_automl_forecast_y"], airline_run.forecast(year)["prediction"])
    later = rolled[rolled["_automl_forecast_origin"] == pd.Timestamp("1960-08-01")]
    with_context = airline_run.forecast(year, np.r_[actual[:8], np.full(4, np.nan)])
    np.testing.assert_allclose(later["_automl_forecast_y"], with_context["prediction"].iloc[8:])
    np.testing.assert_allclose(later["_automl_actual_y"], actual[8:])
    with pytest.raises(ConfigError, match="step=0"):
        airline_run.rolling_forecast(year, actual, step=0)


@pytest.mark.slow
def test_txhousing_many_series_with_gaps(spark, store):
    df = dataset_csv("txhousing")  # 12 cities, whole series
    cfg = AutoMLConfig(task="forecasting", training_data=df[["city", "date", "sales"]], label_column_name="sales",
                       time_column_name="date", time_series_id_column_names=["city"], forecast_horizon=6,
                       n_cross_validations=2, iterations=4, seed=0,
                       allowed_models=["SeasonalNaive", "ExponentialSmoothing", "LightGBM"])
    run = Experiment("txhousing", spark=spark, tracking_uri=store).submit(cfg)
    guards = run.get_guardrails().set_index("guardrail")["status"]
    assert guards["Missing target values"] == "done"
    out = run.forecast()
    assert len(out) == 12 * 6 and out["city"].nunique() == 12
    assert out.groupby("city")["date"].min().eq(pd.Timestamp("2015-08-01")).all()
    per_series = run.per_series_metrics()
    assert len(per_series) == 12 and per_series["MASE"].notna().all()
    from spark_automl.forecasting.model import UnknownSeriesWarning

    with pytest.warns(UnknownSeriesWarning, match="Atlantis"):
        unknown = run.forecast(pd.DataFrame({"city": ["Atlantis", "Austin"], "date": ["2015-08-01"] * 2}))
    assert unknown["prediction"].isna().tolist() == [True, False]


@pytest.mark.slow
def test_oj_sales_88_series_with_covariates(spark, store):
    df = dataset_csv("oj_sales")  # 8 stores x 11 brands, whole series
    keep = ["store", "brand", "week", "logmove", "price1", "price2", "deal", "feat"]
    cfg = AutoMLConfig(task="forecasting", training_data=df[keep], label_column_name="logmove",
                       time_column_name="week", time_series_id_column_names=["store", "brand"], forecast_horizon=4,
                       n_cross_validations=2, iterations=3, seed=0, allowed_models=["Naive", "SeasonalNaive",
                                                                                     "LightGBM"])
    run = Experiment("oj", spark=spark, tracking_uri=store).submit(cfg)
    assert run.info["n_series"] == 88 and run.info["integer_time"]
    board = run.leaderboard
    assert set(board["model"]) >= {"Naive", "SeasonalNaive", "LightGBM"}
    last = df.sort_values("week").groupby(["store", "brand"]).tail(1)
    future = last.assign(week=last["week"] + 1)[["store", "brand", "week", "price1", "price2", "deal", "feat"]]
    model = run.get_output(board[board["model"] == "LightGBM"]["iteration"].iloc[0])[1]
    out = model.forecast(future)
    assert len(out) == 88 and out["prediction"].between(0, 15).all()
    with pytest.raises(DataError, match="price1"):
        model.forecast(future.drop(columns=["price1"]))


@pytest.mark.slow
def test_beijing_hourly_with_missing_targets(spark, store):
    df = dataset_csv("beijing_pm25").iloc[:2400]
    cfg = AutoMLConfig(task="forecasting", training_data=df[["timestamp", "pm25", "TEMP", "DEWP"]],
                       label_column_name="pm25", time_column_name="timestamp", forecast_horizon=24,
                       features_unknown_at_forecast_time=["TEMP", "DEWP"], n_cross_validations=2, iterations=3,
                       seed=0, allowed_models=["Naive", "SeasonalNaive", "LightGBM"])
    run = Experiment("beijing", spark=spark, tracking_uri=store).submit(cfg)
    assert run.info["freq"] == "h" and run.info["season_length"] == 24
    out = run.forecast()
    stamps = pd.to_datetime(out["timestamp"])
    assert len(out) == 24 and (stamps.diff().dropna() == pd.Timedelta(hours=1)).all()
    assert out["prediction"].notna().all()


def test_bad_forecasting_input_gets_clear_errors(spark, store, airline):
    exp = Experiment("bad-forecast", spark=spark, tracking_uri=store)

    def submit(data, **kw):
        settings = {"time_column_name": "month", "forecast_horizon": 3, **kw}
        return exp.submit(AutoMLConfig(task="forecasting", training_data=data, label_column_name="passengers",
                                       iterations=1, allowed_models=["Naive"], **settings))

    with pytest.raises(ConfigError, match="forecast_horizon"):
        AutoMLConfig(task="forecasting", time_column_name="month", forecast_horizon=0)
    with pytest.raises((ConfigError, DataError), match="when"):
        submit(airline, time_column_name="when")
    with pytest.raises((ConfigError, DataError), match="nope"):
        submit(airline, time_series_id_column_names=["nope"])
    bad_time = airline.assign(month=airline["month"].where(airline.index != 5, "not a month"))
    with pytest.raises(DataError, match="not a month"):
        submit(bad_time)
    duplicated = pd.concat([airline, airline.iloc[:3]])
    with pytest.raises(DataError, match="target_aggregation_function"):
        submit(duplicated)
    with pytest.raises(DataError, match="short"):
        submit(airline.iloc[:5], short_series_handling_configuration=None)  # 5 < 3 + 3 months


@pytest.mark.slow
def test_forecasting_candidates_run_in_spark_tasks_two_at_a_time(spark, store):
    """Forecasting shares the tabular path: the pandas-UDF backend evaluates its candidates in
    Spark tasks, max_concurrent_iterations at a time, and the model goes to the registry."""
    from spark_automl.datasets import dataset_path

    air = pd.read_csv(dataset_path("airline_passengers"))
    cfg = AutoMLConfig(task="forecasting", training_data=air, label_column_name="passengers",
                       time_column_name="month", forecast_horizon=12, iterations=6, experiment_timeout_minutes=3,
                       backend="pandas_udf", max_concurrent_iterations=2,
                       allowed_models=["Naive", "SeasonalNaive", "ExponentialSmoothing", "LightGBM", "ElasticNet",
                                       "SeasonalAverage"])
    run = Experiment("fc-pandas-udf", spark=spark, tracking_uri=store).submit(cfg)
    assert run.backend == "pandas_udf"
    trials = [r for r in run.results if r.origin != "ensemble"]
    assert len(trials) == 6 and all(r.worker.startswith("spark task") for r in trials)
    tasks = {r.worker.split(" (")[0] for r in trials}
    assert len({t.rsplit(".", 1)[1] for t in tasks}) == 2  # two partitions: two candidates at a time
    client = MlflowClient(store)
    child = client.get_run(run.tracker.child_run_ids[trials[0].iteration])
    assert child.data.tags["worker"].startswith("spark task")
    version = run.register_model("fc-udf")
    assert client.get_model_version("fc-udf", version.version).run_id == run.tracker.run_of(run.best.iteration)
    assert len(run.forecast()) == 12
