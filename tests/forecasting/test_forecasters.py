"""The global forecaster by value, without Spark: each series is standardised by its own statistics, so a
series a thousand times larger is learned and forecast exactly like its small twin."""

import numpy as np
import pandas as pd
import pytest

from spark_automl.forecasting.forecasters import GlobalForecaster, series_scaling

pytestmark = pytest.mark.extra("forecast")


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    small = 10 + np.sin(np.arange(n) * 2 * np.pi / 6) * 3 + rng.normal(0, 0.2, n)
    frames = [pd.DataFrame({"unique_id": uid, "ds": np.arange(n), "y": y})
              for uid, y in (("small", small), ("large", small * 1000 + 5000))]
    return pd.concat(frames, ignore_index=True)


def test_a_large_series_is_forecast_exactly_as_its_small_twin_scaled():
    history = _panel()
    args = {"freq": 1, "season_length": 6, "horizon": 6}
    model = GlobalForecaster("LightGBM", {"n_estimators": 50}, args, seed=0).fit(history)
    future = pd.DataFrame({"unique_id": np.repeat(["large", "small"], 6), "ds": np.tile(np.arange(60, 66), 2)})
    out = model.predict(future, levels=()).set_index(["unique_id", "ds"])["yhat"]
    # the twins' standardised series are equal up to rounding, which may break a split tie differently
    np.testing.assert_allclose(out["large"].to_numpy(), out["small"].to_numpy() * 1000 + 5000, rtol=1e-3)
    from spark_automl.forecasting.features import training_matrix

    _, y, _ = training_matrix(model.featurizer, model._scaled(history))
    assert np.abs(y).max() < 3  # the learner saw standardised targets, not 1000x ones
    stats = series_scaling(history)
    assert stats.loc["large", "std"] == pytest.approx(stats.loc["small", "std"] * 1000)
    assert model.history is history  # the model keeps the history in the series' own units


def test_a_constant_series_scales_by_one_and_old_models_predict_unscaled():
    flat = pd.DataFrame({"unique_id": "f", "ds": np.arange(20), "y": 7.0})
    stats = series_scaling(flat)
    assert (stats.loc["f", "mean"], stats.loc["f", "std"]) == (7.0, 1.0)
    model = GlobalForecaster("ElasticNet", {}, {"freq": 1, "season_length": 1, "horizon": 2}).fit(flat)
    future = pd.DataFrame({"unique_id": "f", "ds": [20, 21]})
    np.testing.assert_allclose(model.predict(future, levels=())["yhat"], 7.0)
    model.scaling_ = None  # a model pickled before per-series scaling: trained and forecast in raw units
    assert model._scaled(flat) is flat
