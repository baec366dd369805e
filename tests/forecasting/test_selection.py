"""PerSeriesBest by value, without Spark: each series takes the candidate that forecast it best, and the
validation forecasts that score the entry are chosen on the other origins only."""

import numpy as np
import pandas as pd
import pytest

from spark_automl.forecasting.selection import ASSIGNMENT, PER_SERIES_BEST, assignments, per_series_best
from spark_automl.forecasting.trial import Folds
from spark_automl.search.trial import OK, TrialResult
from spark_automl.tasks.forecasting import ForecastTarget

pytestmark = pytest.mark.extra("forecast")


def _folds(n_series: int = 2, n_origins: int = 3, steps: int = 4) -> Folds:
    scored = [pd.DataFrame({"unique_id": np.repeat([f"s{i}" for i in range(n_series)], steps),
                            "ds": np.tile(np.arange(steps) + 10 * k, n_series), "y": 10.0,
                            "_step": np.tile(np.arange(steps), n_series)}) for k in range(n_origins)]
    scales = pd.Series(1.0, index=[f"s{i}" for i in range(n_series)])
    return Folds([None] * n_origins, [None] * n_origins, scored, scales, 10.0)


def _result(iteration: int, model: str, oof: np.ndarray, target: ForecastTarget) -> TrialResult:
    metrics = target.score(oof, also=("normalized_mean_absolute_error",))
    score = metrics["normalized_mean_absolute_error"]
    return TrialResult(iteration, model, {}, "portfolio", OK, metrics, score, "normalized_mean_absolute_error", score,
                       oof.astype(np.float32), 1.0)


def test_each_series_takes_its_best_model_and_the_entry_beats_both():
    folds = _folds()
    target = ForecastTarget(folds)
    on_s0 = (folds.all_scored["unique_id"] == "s0").to_numpy()
    good_on_s0 = _result(0, "ExponentialSmoothing", np.where(on_s0, 10.0, 14.0), target)  # exact on s0
    good_on_s1 = _result(1, "LightGBM", np.where(on_s0, 13.0, 10.0), target)  # exact on s1
    entry = per_series_best([good_on_s0, good_on_s1], target, "normalized_mean_absolute_error", 2,
                            lambda r: 0.0, None, 1)
    assert entry.model == PER_SERIES_BEST and entry.details[ASSIGNMENT] == {"s0": 0, "s1": 1}
    assert entry.score == 0.0 < min(good_on_s0.score, good_on_s1.score)
    assert entry.ensemble.iterations == (1, 0)  # best overall first: it forecasts series nobody validated


def test_a_series_choice_for_one_origin_is_made_on_the_other_origins():
    folds = _folds(n_series=2, n_origins=3)
    target = ForecastTarget(folds)
    origin = folds.origin_of_rows
    on_s0 = (folds.all_scored["unique_id"] == "s0").to_numpy()
    # on s0, A wins at origins 0 and 1 and loses at origin 2; B is the opposite
    a = np.where(on_s0, np.where(origin < 2, 10.0, 13.0), 11.0)
    b = np.where(on_s0, np.where(origin < 2, 12.0, 10.0), 12.0)
    results = [_result(0, "A", a, target), _result(1, "B", b, target)]
    per_row, final = assignments(folds, results)
    assert (per_row[on_s0 & (origin == 2)] == 0).all()  # chosen on origins 0-1, where A won: no peeking at 2
    assert (per_row[on_s0 & (origin == 0)] == 1).all()  # on origins 1-2: A's errors 0, 3 against B's 2, 0
    assert final == {"s0": 0, "s1": 0}
    assert per_series_best(results, target, "normalized_mean_absolute_error", 2, lambda r: 0.0, None, 1) is None


def test_one_series_or_one_origin_has_nothing_to_choose():
    for folds in (_folds(n_series=1), _folds(n_origins=1)):
        target = ForecastTarget(folds)
        n = len(folds.all_scored)
        results = [_result(0, "A", np.full(n, 11.0), target), _result(1, "B", np.full(n, 9.0), target)]
        assert per_series_best(results, target, "normalized_mean_absolute_error", 2, lambda r: 0.0, None, 1) is None


@pytest.mark.spark
def test_a_panel_run_forecasts_each_series_with_its_assigned_model(spark, tmp_path, monkeypatch):
    """Twelve txhousing cities: the PerSeriesBest entry is on the leaderboard, its validation score comes
    from the nested choice, and its model forecasts each series exactly as the assigned trial's model does."""
    from spark_automl import AutoMLConfig, Experiment

    from ..conftest import dataset_csv

    monkeypatch.chdir(tmp_path)
    data = dataset_csv("txhousing")[["city", "date", "sales"]]
    cfg = AutoMLConfig(task="forecasting", training_data=data, label_column_name="sales", time_column_name="date",
                       time_series_id_column_names=["city"], forecast_horizon=6, n_cross_validations=3,
                       allowed_models=["Naive", "SeasonalNaive", "ExponentialSmoothing"], iterations=3, seed=0)
    run = Experiment("per-series", spark=spark, tracking_uri=f"sqlite:///{tmp_path}/mlflow.db").submit(cfg)
    board = run.leaderboard.set_index("model")
    assert PER_SERIES_BEST in board.index
    entry = next(r for r in run.results if r.model == PER_SERIES_BEST)
    assignment = entry.details[ASSIGNMENT]
    assert len(assignment) == 12 and len(set(assignment.values())) >= 2
    combined = run.forecast(iteration=entry.iteration)
    table = run.series_models(iteration=entry.iteration).set_index("unique_id")
    names = {r.iteration: r.model for r in run.results}
    one_each = {iteration: city for city, iteration in assignment.items()}  # a city of every assigned model
    for iteration, city in one_each.items():
        alone = run.forecast(iteration=iteration)
        np.testing.assert_allclose(combined.loc[combined["city"] == city, "prediction"],
                                   alone.loc[alone["city"] == city, "prediction"])
        assert table.loc[city, "model"] == names[iteration] and PER_SERIES_BEST in table.loc[city, "reason"]
