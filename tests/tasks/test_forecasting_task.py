"""The forecasting task's candidates come from the one registry, in a fixed run order."""

import pytest
from spark_automl import REGISTRY, AutoMLConfig
from spark_automl.models import STATISTICAL
from spark_automl.tasks.forecasting import GLOBAL_FIRST, candidate_queue

pytestmark = pytest.mark.extra("forecast")


def _config(**kw):
    return AutoMLConfig(task="forecasting", time_column_name="t", forecast_horizon=3, **kw)


def test_statistical_forecasters_are_registry_entries_with_flags():
    stats = {s.name: s for s in REGISTRY.for_task("forecasting") if s.kind == STATISTICAL}
    assert set(stats) == {"Naive", "SeasonalNaive", "Average", "SeasonalAverage", "ExponentialSmoothing",
                          "MSTL", "AutoArima", "Arimax", "Prophet"}
    assert stats["Arimax"].uses_covariates and not stats["Naive"].uses_covariates
    assert stats["SeasonalNaive"].needs_season and not stats["Average"].needs_season
    assert {n for n, s in stats.items() if s.slow} == {"AutoArima", "Arimax", "Prophet"}
    assert all(not s.tunable and not s.onnx and not s.supports_weights for s in stats.values())


def test_queue_runs_cheap_baselines_then_first_learners_then_slow_models():
    specs, queue = candidate_queue(_config(), has_known_covariates=False)
    names = [name for name, _ in queue]
    assert names[:6] == ["Naive", "SeasonalNaive", "Average", "SeasonalAverage", "ExponentialSmoothing", "MSTL"]
    learners = names[6:6 + GLOBAL_FIRST]
    assert all(REGISTRY.get(n, "regression").kind != STATISTICAL for n in learners)
    assert names[6 + GLOBAL_FIRST:6 + GLOBAL_FIRST + 2] == ["AutoArima", "Prophet"]
    assert "Arimax" not in names  # no known covariate to regress on
    assert {s.name for s in specs} >= set(names)


def test_allowed_and_blocked_models_shape_the_queue():
    _, queue = candidate_queue(_config(allowed_models=["Naive", "LightGBM", "Arimax"]), has_known_covariates=False)
    assert [n for n, _ in queue][:1] == ["Naive"] and {n for n, _ in queue} == {"Naive", "LightGBM", "Arimax"}
    _, queue = candidate_queue(_config(blocked_models=["Prophet", "AutoArima"]), has_known_covariates=True)
    names = {n for n, _ in queue}
    assert "Arimax" in names and not names & {"Prophet", "AutoArima"}
