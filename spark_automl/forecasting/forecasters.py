"""The fitted forecasters a trial evaluates and the final model holds.

Two kinds behind one interface, fit(history) then predict(future rows):
- statistical (per series: statsforecast / Prophet), fanned out over Spark when a session is given;
- global (one regression learner over lag features of every series), forecasting recursively.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline

from ..errors import DataError
from ..search.trial import build_estimator
from .metrics import row_scales, signed_normalised_errors
from .settings import SERIES_ID, TARGET, TIME

LEVELS = (80, 95)


def step_of(future: pd.DataFrame) -> np.ndarray:
    """0 for each series' first future row, 1 for the next..."""
    return future.groupby(SERIES_ID, sort=False).cumcount().to_numpy()


def normalised_errors(scored: pd.DataFrame, yhat: np.ndarray, scales: pd.Series) -> np.ndarray:
    """|actual - forecast| / (series scale x sqrt(step + 1)) of the scored validation rows."""
    out = np.abs(signed_normalised_errors(scored, yhat, scales))
    return out[np.isfinite(out)]


@dataclass
class ConformalIntervals:
    """Prediction intervals of any member, calibrated on its own rolling-origin errors (split
    conformal): half-width = q(level) x series scale x sqrt(step + 1), the scale being the series'
    seasonal-naive MAE on the history it forecasts from (forecasting/metrics.naive_scales)."""

    quantiles: dict[int, float]  # level -> quantile of the normalised |error| (trial.conformal_quantiles)
    season_length: int

    def apply(self, out: pd.DataFrame, future: pd.DataFrame, history: pd.DataFrame,
              levels: Sequence[int]) -> pd.DataFrame:
        from .metrics import naive_scales

        scales = naive_scales(history, self.season_length)
        width = row_scales(out, scales) * np.sqrt(step_of(future) + 1.0)
        out = out.copy()
        for level in levels:
            half = _level_value(self.quantiles, level) * width
            out[f"yhat_lo_{level}"] = out["yhat"].to_numpy() - half
            out[f"yhat_hi_{level}"] = out["yhat"].to_numpy() + half
        return out


def _level_value(by_level: dict[int, float], level: int) -> float:
    """The kept value at `level`, else interpolated linearly between the kept levels around it (towards 0
    at level 0; the widest kept one beyond it)."""
    if level in by_level:
        return by_level[level]
    kept = sorted(by_level)
    lower = max((lv for lv in kept if lv < level), default=0)
    upper = min((lv for lv in kept if lv > level), default=kept[-1])
    if upper <= level:
        return by_level[upper]
    w = (level - lower) / (upper - lower)
    return (1 - w) * by_level.get(lower, 0.0) + w * by_level[upper]


# Fewer series than this are forecast on the driver: a Spark job costs seconds before the first series, while
# statsforecast fits a few dozen series in well under one (the forecast chart, the logged example)
SPARK_FORECAST_MIN_SERIES = 64


class StatisticalForecaster:
    """Per-series model: 'fitting' is done at forecast time on the stored history, as
    statsforecast does; the history is what the model carries."""

    kind = "statistical"

    def __init__(self, model: str, freq, season_length: int, covariates: Sequence[str] = (), spark=None):
        self.model, self.freq, self.season_length = model, freq, season_length
        self.covariates = list(covariates)
        self.spark = spark
        self.intervals: ConformalIntervals | None = None  # set by the engine; None keeps the model's own

    def fit(self, history: pd.DataFrame) -> "StatisticalForecaster":
        self.history = history
        return self

    def predict(self, future: pd.DataFrame, levels: Sequence[int] = LEVELS,
                history: pd.DataFrame | None = None) -> pd.DataFrame:
        """history: the requested series' history when the model does not hold it (large panels)."""
        from .statistical import forecast_series, spark_forecast

        horizon = int(step_of(future).max()) + 1 if len(future) else 0
        history = self.history if history is None else history
        history = history[history[SERIES_ID].isin(future[SERIES_ID].unique())]
        future_cov = future[[SERIES_ID, TIME, *self.covariates]] if self.model == "Arimax" else None
        # The library always makes intervals; CV asks for none, so take the cheapest and drop it.
        kwargs = dict(levels=tuple(levels) or (80,), future_covariates=future_cov, covariates=self.covariates)
        if self.spark is not None and history[SERIES_ID].nunique() >= SPARK_FORECAST_MIN_SERIES:
            out = spark_forecast(self.spark, history, self.model, horizon, self.freq, self.season_length, **kwargs)
        else:
            out = forecast_series(history, self.model, horizon, self.freq, self.season_length, **kwargs)
        if not levels:
            out = out[[SERIES_ID, TIME, "yhat"]]
        out = future[[SERIES_ID, TIME]].merge(out, on=[SERIES_ID, TIME], how="left")
        if levels and self.intervals is not None:  # calibrated on its validation errors, not the model's own
            out = self.intervals.apply(out, future, history, levels)
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state["spark"] = None  # a session does not pickle; the logged model forecasts locally
        return state


def series_scaling(history: pd.DataFrame) -> pd.DataFrame:
    """Per series: the mean and standard deviation of its observed (not padded) target; a constant series
    gets a deviation of 1. What the global learner standardises each series by."""
    observed = history[TARGET].where(~history["_padded"].fillna(False).astype(bool)) if "_padded" in history.columns \
        else history[TARGET]
    stats = observed.groupby(history[SERIES_ID], sort=False).agg(["mean", "std"])
    stats["std"] = stats["std"].where(np.isfinite(stats["std"]) & (stats["std"] > 0), 1.0)
    stats["mean"] = stats["mean"].fillna(0.0)
    return stats


def _rows(stats: pd.DataFrame, ids: pd.Series, column: str) -> np.ndarray:
    return ids.map(stats[column]).to_numpy(dtype=np.float64)


class GlobalForecaster:
    """One regression learner over every series' lag features; multi-step forecasts feed each
    step's predictions back as the next step's lags. Each series' target is standardised by its own
    mean and deviation (fit-time statistics; a series first seen at forecast time uses its history's), so
    a panel's large series do not dominate the learner, as mlforecast's LocalStandardScaler does.
    Intervals come from its validation errors (ConformalIntervals, set by the engine)."""

    kind = "global"
    scaling_: pd.DataFrame | None = None  # models pickled before per-series scaling have none

    def __init__(self, model: str, params: dict[str, Any], featurizer_args: dict[str, Any], seed: int = 0,
                 n_jobs: int = 1):
        self.model, self.params = model, dict(params)
        self.featurizer_args = dict(featurizer_args)
        self.seed, self.n_jobs = seed, n_jobs
        self.intervals: ConformalIntervals | None = None

    def fit(self, history: pd.DataFrame) -> "GlobalForecaster":
        from .features import LagFeaturizer, training_matrix

        self.history = history
        self.scaling_ = series_scaling(history)
        history = self._scaled(history)
        self.featurizer = LagFeaturizer(**self.featurizer_args).fit(history)
        X, y, _ = training_matrix(self.featurizer, history)
        if len(y) == 0:
            raise DataError("no training rows with enough history for lag features")
        est = build_estimator(self.model, self.params, "regression", None, self.n_jobs, self.seed)
        # Covariates may be missing (gaps); linear learners need complete rows.
        self.estimator = Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                                   ("model", est)])
        X = np.asarray(X, dtype=np.float64)
        self.estimator.fit(X, y)
        return self

    def _stats(self, history: pd.DataFrame) -> pd.DataFrame | None:
        if self.scaling_ is None:
            return None
        unseen = history.loc[~history[SERIES_ID].isin(self.scaling_.index)]
        return self.scaling_ if unseen.empty else pd.concat([self.scaling_, series_scaling(unseen)])

    def _scaled(self, history: pd.DataFrame, stats: pd.DataFrame | None = None) -> pd.DataFrame:
        stats = self._stats(history) if stats is None else stats
        if stats is None:
            return history
        ids = history[SERIES_ID]
        return history.assign(**{TARGET: (history[TARGET].to_numpy(np.float64) - _rows(stats, ids, "mean"))
                                 / _rows(stats, ids, "std")})

    def predict(self, future: pd.DataFrame, levels: Sequence[int] = LEVELS,
                history: pd.DataFrame | None = None) -> pd.DataFrame:
        """history: the requested series' history when the model does not hold it (large panels)."""
        future = future.reset_index(drop=True)
        steps = step_of(future)
        history = self.history if history is None else history
        history = history[history[SERIES_ID].isin(future[SERIES_ID].unique())]
        observed = history
        stats = self._stats(history)
        history = self._scaled(history, stats).drop(columns=[c for c in ("_padded",) if c in history.columns])
        yhat = np.full(len(future), np.nan)
        for k in range(int(steps.max()) + 1 if len(future) else 0):
            rows = future.loc[steps == k]
            X = self.featurizer.next_step(history, rows)
            pred = self.estimator.predict(np.asarray(X, dtype=np.float64))
            yhat[rows.index] = pred
            appended = rows.assign(**{TARGET: pred})
            history = pd.concat([history, appended[[c for c in history.columns if c in appended.columns]]],
                                ignore_index=True).sort_values([SERIES_ID, TIME], kind="mergesort")
        out = future[[SERIES_ID, TIME]].copy()
        if stats is not None:  # back to each series' own units
            yhat = yhat * _rows(stats, future[SERIES_ID], "std") + _rows(stats, future[SERIES_ID], "mean")
        out["yhat"] = yhat
        if levels and self.intervals is not None:  # scaled by the observed history, not the predictions appended
            return self.intervals.apply(out, future, observed, levels)
        for level in levels:  # not calibrated (no validation errors): no interval
            out[f"yhat_lo_{level}"] = out[f"yhat_hi_{level}"] = np.nan
        return out


def is_statistical(model: str) -> bool:
    """A per-series model from the registry (models/statistical.py), not a global learner."""
    from ..models import REGISTRY, STATISTICAL

    return model in REGISTRY.names("forecasting") and REGISTRY.get(model, "forecasting").kind == STATISTICAL


def make_forecaster(model: str, params: dict[str, Any], *, freq, season_length: int, covariates: Sequence[str],
                    featurizer_args: dict[str, Any], seed: int, n_jobs: int, spark=None):
    if is_statistical(model):
        return StatisticalForecaster(model, freq, season_length, covariates, spark)
    return GlobalForecaster(model, params, featurizer_args, seed, n_jobs)
