"""Large-panel mode: a panel past the driver's budget is searched on a seeded sample of whole series,
stored whole as Parquet by Spark tasks, and every series is forecast from its full history."""

import os

import numpy as np
import pandas as pd
import pytest

from spark_automl import AutoMLConfig, DataError, Experiment, forecast_spark
from spark_automl.forecasting import store as store_module
from spark_automl.forecasting.data import PADDED, load_series
from spark_automl.forecasting.settings import ForecastingParameters
from spark_automl.forecasting.statistical import forecast_series
from spark_automl.forecasting.store import HistoryStore, _chunks, _encode
from spark_automl.scoring import local_model_path

from ..conftest import dataset_csv

pytestmark = pytest.mark.extra("forecast")

IDS = ["store", "brand"]


def _settings(**kw):
    return ForecastingParameters(time_column_name="week", time_series_id_column_names=IDS, forecast_horizon=4, **kw)


@pytest.fixture(scope="module")
def oj():
    return dataset_csv("oj_sales")[["store", "brand", "week", "logmove"]]


# ---- no Spark ------------------------------------------------------------------------------------

def test_chunks_cut_only_between_series_and_keep_every_row():
    frame = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c", "d"], [5, 7, 3, 6]), "ds": np.arange(21)})
    batches = [frame.iloc[i:i + 4] for i in range(0, 21, 4)]  # batches split series
    chunks = list(_chunks(iter(batches), rows_per_part=6))
    assert pd.concat(chunks, ignore_index=True).equals(frame)
    owners = [set(c["unique_id"]) for c in chunks]
    for i, a in enumerate(owners):
        for b in owners[i + 1:]:
            assert not a & b  # no series in two chunks
    assert len(chunks) >= 3


def test_store_reads_the_series_asked_for_from_their_file(tmp_path):
    frames = {"part-00000.parquet": pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 2, "ds": [1, 2, 3, 1, 2],
                                                  "y": [1.0, 2, 3, 4, 5]}),
              "part-00001.parquet": pd.DataFrame({"unique_id": ["c"] * 2, "ds": [5, 6], "y": [7.0, 8]})}
    for name, frame in frames.items():
        (tmp_path / name).write_bytes(_encode(frame))
    store = HistoryStore(str(tmp_path), {"a": "part-00000.parquet", "b": "part-00000.parquet",
                                         "c": "part-00001.parquet"}, 7)
    assert store.groups(["c", "a", "b"]) == {"part-00001.parquet": ["c"], "part-00000.parquet": ["a", "b"]}
    got = store.read("part-00000.parquet", ["b"])
    assert got["y"].tolist() == [4.0, 5.0] and set(got["unique_id"]) == {"b"}
    paths, prefix = store.shipped_files()
    assert sorted(os.path.basename(p) for p in paths) == sorted(prefix + name for name in frames)
    assert store.at(os.path.dirname(paths[0]), prefix).read("part-00001.parquet", ["c"])["y"].tolist() == [7.0, 8.0]
    assert store.shipped_files()[1] != prefix  # a second shipment never clashes with the first


# ---- Spark ---------------------------------------------------------------------------------------

@pytest.mark.spark
def test_large_panel_stores_every_series_whole_and_searches_a_seeded_sample(spark, oj, monkeypatch):
    monkeypatch.setattr(store_module, "ROWS_PER_PART", 2_000)  # several files
    df = spark.createDataFrame(oj)
    full = load_series(spark, df, "logmove", _settings(), 2, 4)
    large = load_series(spark, df, "logmove", _settings(), 2, 4, max_rows_in_memory=3_000, seed=0)
    assert full.store is None and large.store is not None
    assert large.n_series == 88 and 5 <= large.n_searched_series < 40 and len(large.frame) <= 3_000
    assert len(set(large.store.parts.values())) >= 2
    stored = pd.concat([large.store.read(p, u) for p, u in large.store.groups(sorted(large.store.parts)).items()])
    stored = stored.sort_values(["unique_id", "ds"], ignore_index=True)
    expected = full.frame.sort_values(["unique_id", "ds"], ignore_index=True)
    pd.testing.assert_frame_equal(stored[expected.columns], expected, check_dtype=False)
    sample = large.frame.merge(expected, on=["unique_id", "ds"], suffixes=("", "_full"))
    assert len(sample) == len(large.frame)  # the sampled series are whole series of the panel
    assert np.allclose(sample["y"], sample["y_full"], equal_nan=True)
    last = large.index.set_index("unique_id")["last"]
    assert last.to_dict() == full.frame.groupby("unique_id")["ds"].max().to_dict()
    memory = next(g for g in large.guardrails if g.name == "Memory issues detection")
    assert "88 series" in memory.description and f"{large.n_searched_series} whole" in memory.description
    again = load_series(spark, df, "logmove", _settings(), 2, 4, max_rows_in_memory=3_000, seed=0)
    other = load_series(spark, df, "logmove", _settings(), 2, 4, max_rows_in_memory=3_000, seed=7)
    assert set(again.frame["unique_id"]) == set(large.frame["unique_id"])
    assert set(other.frame["unique_id"]) != set(large.frame["unique_id"])


@pytest.mark.spark
def test_large_panel_short_series_are_dropped_padded_or_refused_in_the_stored_panel(spark, oj):
    short_ids = oj.groupby(IDS).size().index[:3]  # three series cut to their last 6 weeks (8 are needed)
    is_short = pd.MultiIndex.from_frame(oj[IDS]).isin(short_ids)
    recent = oj["week"] > oj["week"].max() - 6
    cut = pd.concat([oj[~is_short], oj[is_short & recent]], ignore_index=True)
    df = spark.createDataFrame(cut)
    names = {f"{s}|{b}" for s, b in short_ids}

    dropped = load_series(spark, df, "logmove", _settings(short_series_handling_configuration="drop"), 2, 4,
                          max_rows_in_memory=3_000)
    assert set(dropped.dropped_series) == names and dropped.n_series == 85
    assert names <= set(dropped.store.parts)  # stored for the fallback forecaster, left out of the search
    assert not names & set(dropped.frame["unique_id"])
    padded = load_series(spark, df, "logmove", _settings(short_series_handling_configuration="pad"), 2, 4,
                         max_rows_in_memory=3_000)
    assert set(padded.padded_series) == names and padded.n_series == 88
    for uid in names:
        history = padded.store.read(padded.store.parts[uid], [uid])
        assert len(history) == 8 and history[PADDED].sum() == 8 - (~history[PADDED]).sum() > 0
    with pytest.raises(DataError, match=r"3 series are shorter than the 8 time steps"):
        load_series(spark, df, "logmove", _settings(short_series_handling_configuration=None), 2, 4,
                    max_rows_in_memory=3_000)


@pytest.mark.spark
@pytest.mark.slow
def test_large_panel_experiment_forecasts_every_series_from_its_full_history(spark, oj, tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "ROWS_PER_PART", 2_000)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    cfg = AutoMLConfig(task="forecasting", training_data=oj, label_column_name="logmove", time_column_name="week",
                       time_series_id_column_names=IDS, forecast_horizon=4, n_cross_validations=2, iterations=3,
                       seed=0, allowed_models=["SeasonalNaive", "ExponentialSmoothing", "LightGBM"],
                       max_rows_in_memory=3_000, experiment_timeout_minutes=5)
    run = Experiment("large-panel", spark=spark, tracking_uri=uri).submit(cfg)
    assert run.info["n_series"] == 88

    out = run.forecast()  # every series, the whole horizon
    assert len(out) == 88 * 4 and np.isfinite(out["prediction"]).all()
    assert len(out.drop_duplicates(IDS)) == 88

    # A statistical child forecasts every series, sampled or not, exactly as from the whole panel.
    board = run.leaderboard
    ets = int(board.loc[board["model"] == "ExponentialSmoothing", "iteration"].iloc[0])
    model = run.get_output(ets)[1]
    assert model.store is not None and all(m.history is None for m in model.members)
    full = load_series(spark, spark.createDataFrame(oj), "logmove", _settings(), 2, 4)
    expected = forecast_series(full.frame, "ExponentialSmoothing", 4, 1, run.info["season_length"], levels=(80,))
    got = model.forecast(levels=(80,))
    got["unique_id"] = got["store"].astype(str) + "|" + got["brand"].astype(str)
    merged = got.merge(expected, left_on=["unique_id", "week"], right_on=["unique_id", "ds"])
    assert len(merged) == 88 * 4
    assert np.allclose(merged["prediction"], merged["yhat"])
    # its intervals are calibrated on its validation errors (split conformal), scaled by each series' own
    # full history: the same from the stored panel as from the whole frame
    calibrated = model.members[0].intervals.apply(expected[["unique_id", "ds", "yhat"]], expected[["unique_id", "ds"]],
                                                  full.frame, (80,))
    merged = merged.drop(columns=["yhat_hi_80"]).merge(calibrated[["unique_id", "ds", "yhat_hi_80"]],
                                                       on=["unique_id", "ds"])
    assert np.allclose(merged["prediction_upper_80"], merged["yhat_hi_80"])

    # The logged model carries the stored panel: MLflow scoring and forecast_spark give the same forecasts.
    import mlflow.pyfunc

    local = local_model_path(run)
    assert os.listdir(os.path.join(local, "artifacts"))
    future = out[[*IDS, "week"]]
    from_mlflow = mlflow.pyfunc.load_model(local).predict(future)
    assert np.allclose(from_mlflow["prediction"], out["prediction"])
    spread = forecast_spark(spark, spark.createDataFrame(future), run).toPandas()
    both = out.merge(spread, on=[*IDS, "week"], suffixes=("", "_spark"))
    assert len(both) == 88 * 4 and np.allclose(both["prediction"], both["prediction_spark"])
