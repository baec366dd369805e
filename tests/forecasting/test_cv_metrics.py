"""Rolling origins and the forecasting metrics, by value, without Spark."""

import numpy as np
import pandas as pd
import pytest

from spark_automl.forecasting import cv
from spark_automl.forecasting.metrics import forecast_metrics, naive_scales

pytestmark = pytest.mark.extra("forecast")


def _frame(lengths: dict[str, int]) -> pd.DataFrame:
    parts = [pd.DataFrame({"unique_id": uid, "ds": np.arange(n), "y": np.arange(n, dtype=float)})
             for uid, n in lengths.items()]
    return pd.concat(parts, ignore_index=True)


def test_origins_sit_at_the_end_of_every_series_cv_step_apart():
    frame = _frame({"a": 20, "b": 30})
    origins = cv.origins(3, horizon=4, step=2)
    assert [o.steps_from_end for o in origins] == [8, 6, 4]
    history, scored = cv.split(frame, origins[0])
    for uid, n in (("a", 20), ("b", 30)):
        assert history.loc[history.unique_id == uid, "ds"].max() == n - 9
        assert scored.loc[scored.unique_id == uid, "ds"].tolist() == list(range(n - 8, n - 4))
    _, last = cv.split(frame, origins[-1])
    assert last.groupby("unique_id")["ds"].max().tolist() == [19, 29]


def test_folds_resolve_from_the_shortest_series():
    assert cv.resolve_folds("auto", shortest=30, horizon=12, step=12) == 1
    assert cv.resolve_folds(None, shortest=100, horizon=12, step=12) == 3
    assert cv.resolve_folds(5, shortest=10, horizon=12, step=12) == 5
    assert cv.resolve_step("auto", 7) == 7 and cv.resolve_step(3, 7) == 3


def test_padding_and_missing_targets_are_never_scored():
    rows = pd.DataFrame({"y": [1.0, np.nan, 3.0], "_padded": [False, False, True]})
    assert cv.scorable(rows).tolist() == [True, False, False]


def test_mase_smape_and_mape_by_value():
    history = pd.DataFrame({"unique_id": ["a"] * 4 + ["b"] * 4, "y": [1.0, 2, 3, 4, 10, 10, 20, 20]})
    scales = naive_scales(history, season_length=2)
    assert scales["a"] == pytest.approx(2.0) and scales["b"] == pytest.approx(10.0)
    scored = pd.DataFrame({"unique_id": ["a", "a", "b"], "y": [5.0, 6.0, 30.0], "yhat": [4.0, 6.0, 20.0]})
    metrics, table = forecast_metrics(scored, scales, y_range=29.0)
    assert table.loc["a", "MASE"] == pytest.approx(0.5 / 2.0) and table.loc["b", "MASE"] == pytest.approx(1.0)
    assert metrics["MASE"] == pytest.approx((0.25 + 1.0) / 2)
    smape_a = np.mean([200 * 1 / 9, 0.0])
    smape_b = 200 * 10 / 50
    assert metrics["forecast_symmetric_mean_absolute_percentage_error"] == pytest.approx((smape_a + smape_b) / 2)
    assert metrics["forecast_mean_absolute_percentage_error"] == pytest.approx((np.mean([20.0, 0.0]) + 100 / 3) / 2)
    assert metrics["series_median_MASE"] == pytest.approx(0.625)
    assert metrics["normalized_mean_absolute_error"] == pytest.approx(np.mean([1, 0, 10]) / 29.0)
