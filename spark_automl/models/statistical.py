"""Per-series statistical forecasters (task 'forecasting') as registry entries.

They have no hyperparameters to search: the portfolio runs each once, and the sweeper never
runs one twice. `build({"season_length": m}, "forecasting")` gives the library's model object
(statsforecast; the marker PROPHET for Prophet); forecasting/statistical.py fits and forecasts it.
"""

from __future__ import annotations

from typing import Any, Callable

from .registry import REGISTRY, STATISTICAL, ModelSpec

ALIAS = "model"
PROPHET = "prophet"  # factory marker: Prophet is not a statsforecast model


def _factory(make: Callable[[int], Any]):
    def build(params, task=None, n_jobs=1, seed=0):
        return make(int(params.get("season_length", 1)))

    return build


def _naive(m: int):
    from statsforecast.models import Naive

    return Naive(alias=ALIAS)


def _seasonal_naive(m: int):
    from statsforecast.models import SeasonalNaive

    return SeasonalNaive(season_length=m, alias=ALIAS) if m > 1 else _naive(1)


def _average(m: int):
    from statsforecast.models import HistoricAverage

    return HistoricAverage(alias=ALIAS)


def _seasonal_average(m: int):
    from statsforecast.models import WindowAverage

    return WindowAverage(window_size=m, alias=ALIAS) if m > 1 else _average(1)


def _ets(m: int):
    from statsforecast.models import AutoETS

    return AutoETS(season_length=m, alias=ALIAS)


def _arima(m: int):
    from statsforecast.models import AutoARIMA

    return AutoARIMA(season_length=m, alias=ALIAS)


def mstl_seasons(m: int) -> list[int]:
    """The cycles MSTL models: a season of whole days of sub-daily steps (m a multiple of 24: hourly data's
    day) and its week (7m); otherwise m alone."""
    return [m, 7 * m] if m >= 24 and m % 24 == 0 else [m]


def _mstl(m: int):
    from statsforecast.models import MSTL, AutoETS

    if m <= 1:
        return AutoETS(season_length=1, alias=ALIAS)
    # the deseasonalised series is forecast by a non-seasonal AutoETS (the seasons are MSTL's)
    return MSTL(season_length=mstl_seasons(m), trend_forecaster=AutoETS(model="ZZN"), alias=ALIAS)


def _stat(name: str, make, priority: int, *, needs_season: bool, slow: bool = False, covariates: bool = False,
          notes: str = "", seasons=None, framework: str = "statsforecast") -> ModelSpec:
    return REGISTRY.register(ModelSpec(
        name=name, tasks=("forecasting",), factory=_factory(make), space={}, defaults=({},), priority=priority,
        supports_weights=False, onnx=False, kind=STATISTICAL, needs_season=needs_season,
        uses_covariates=covariates, slow=slow, notes=notes, seasons=seasons, framework=framework))


# Cheap first: the baselines, then ETS; the slow ones run after the first global learners.
_stat("Naive", _naive, 0, needs_season=False, notes="last value carried forward")
_stat("SeasonalNaive", _seasonal_naive, 1, needs_season=True, notes="value one season back")
_stat("Average", _average, 2, needs_season=False, notes="mean of the history")
_stat("SeasonalAverage", _seasonal_average, 3, needs_season=True, notes="mean of the latest season")
_stat("ExponentialSmoothing", _ets, 4, needs_season=True, notes="AutoETS")
_stat("MSTL", _mstl, 5, needs_season=True, seasons=mstl_seasons,
      notes="STL over several seasons (day and week for sub-daily data) + AutoETS on the rest")
_stat("AutoArima", _arima, 20, needs_season=True, slow=True, framework="arima")
_stat("Prophet", lambda m: PROPHET, 21, needs_season=False, slow=True, framework="prophet")
_stat("Arimax", _arima, 22, needs_season=True, slow=True, covariates=True, framework="arima",
      notes="AutoARIMA with the numeric known covariates as regressors")
