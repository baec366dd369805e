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


def test_a_short_series_joins_only_the_origins_it_has_a_horizon_of_history_for():
    frame = _frame({"long": 40, "short": 14})
    origins = cv.origins(3, horizon=4, step=4)  # cuts 12, 8 and 4 rows before each end
    joined = [set(cv.split(frame, o)[1]["unique_id"]) for o in origins]
    assert joined == [{"long"}, {"long", "short"}, {"long", "short"}]  # 14 - 12 = 2 rows: too little history
    history, scored = cv.split(frame, origins[1])
    assert history.loc[history.unique_id == "short", "ds"].max() == 5 and len(scored) == 8
    with pytest.raises(Exception, match="leaves no series a horizon of history"):
        cv.split(_frame({"tiny": 10}), cv.origins(3, horizon=4, step=4)[0])


def test_folds_resolve_from_the_shortest_series():
    assert cv.resolve_folds("auto", shortest=30, horizon=12, step=12) == 1
    assert cv.resolve_folds(None, shortest=100, horizon=12, step=12, n_series=46) == 3
    assert cv.resolve_folds(None, shortest=100, horizon=12, step=12, n_series=1) == 6  # 72 points validated
    assert cv.resolve_folds(None, shortest=60, horizon=12, step=12, n_series=1) == 4  # as far as the data reach
    assert cv.resolve_folds(None, shortest=5000, horizon=48, step=48, n_series=1) == 3
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


def test_scaled_crps_of_gaussian_errors_is_sigma_over_sqrt_pi_and_rewards_sharpness():
    """The conformal predictive distribution of N(0, s) errors has CRPS s / sqrt(pi) (the closed form for a
    calibrated normal), in units of the series' naive scale; cross-fitted over two origins."""
    from spark_automl.forecasting.metrics import scaled_crps

    rng = np.random.default_rng(0)
    n = 4000
    scored = pd.DataFrame({"unique_id": np.repeat(["a", "b"], n // 2), "y": 0.0, "_step": 0})
    scales = pd.Series({"a": 2.0, "b": 0.5})  # errors in each series' own units
    per_row = scored["unique_id"].map(scales).to_numpy()
    origin = np.tile([0, 1], n // 2)
    for sigma in (1.0, 0.5):
        yhat = -rng.normal(0.0, sigma, n) * per_row  # error y - yhat ~ N(0, sigma x scale)
        assert scaled_crps(scored, yhat, scales, origin) == pytest.approx(sigma / np.sqrt(np.pi), rel=0.05)
    later = scored.assign(_step=3)  # step 3: errors and intervals both grow as sqrt(step + 1)
    yhat = -rng.normal(0.0, 1.0, n) * per_row * 2.0
    assert scaled_crps(later, yhat, scales, origin) == pytest.approx(2.0 / np.sqrt(np.pi), rel=0.05)
    biased = -rng.normal(0.0, 1.0, n) * per_row + 3.0 * per_row  # a biased forecast is no sharper
    assert scaled_crps(scored, biased, scales, origin) > 1.0 / np.sqrt(np.pi) * 1.2
