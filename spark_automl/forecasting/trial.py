"""One forecasting candidate scored by rolling-origin CV over every series: the forecasting
task's Evaluator, run by the same backends as tabular trials (driver threads, pandas-UDF
tasks, SparkTrials).

Statistical models fit per series (over Spark when the evaluator runs on the driver with a
session; locally inside a Spark task); global learners train once over every series' lag
features. Each candidate becomes a TrialResult, so child runs, the leaderboard and ensemble
selection work as for tabular tasks.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..ensemble.selection import ValidationTarget
from ..errors import TrialTimeoutError
from ..metrics import to_loss
from ..search.trial import FAILED, OK, TIMED_OUT, Candidate, Evaluator, TrialResult, run_with_timeout
from . import cv
from .data import SeriesData
from .forecasters import make_forecaster
from .metrics import forecast_metrics, naive_scales, scaled_crps
from .settings import SERIES_ID, TARGET, TIME

PER_SERIES, RESIDUALS = "per_series", "residual_quantiles"  # keys of TrialResult.details
CRPS = "scaled_CRPS"  # a leaderboard column: the calibrated intervals' quality, beside MASE's point accuracy


@dataclass
class Folds:
    """The CV folds, their scored rows in one fixed order, and the MASE scales."""

    origins: list[cv.Origin]
    histories: list[pd.DataFrame]
    scored: list[pd.DataFrame]  # the scorable rows of each origin
    scales: pd.Series
    y_range: float

    @cached_property
    def all_scored(self) -> pd.DataFrame:
        """Every origin's scored rows, in the order of every candidate's validation forecasts."""
        return pd.concat(self.scored, ignore_index=True)

    @property
    def actual(self) -> np.ndarray:
        return self.all_scored[TARGET].to_numpy(np.float64)

    def score(self, yhat: np.ndarray, also: tuple[str, ...] = ()) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
        """(metrics, per-series table, scored rows with yhat) for validation forecasts in that order."""
        scored = self.all_scored.assign(yhat=yhat)
        metrics, table = forecast_metrics(scored, self.scales, self.y_range, also)
        metrics[CRPS] = scaled_crps(scored, yhat, self.scales, self.origin_of_rows)
        return metrics, table, scored

    @cached_property
    def origin_of_rows(self) -> np.ndarray:
        """Which origin each scored row belongs to (cross-fits the CRPS's intervals)."""
        return np.repeat(np.arange(len(self.scored)), [len(s) for s in self.scored])

    @property
    def target(self) -> ValidationTarget:
        """The validation points every candidate forecasts, in order: what ensemble selection scores."""
        return ValidationTarget("regression", self.actual, y_range=self.y_range)


def build_folds(series: SeriesData, horizon: int, n_folds: int, step: int) -> Folds:
    histories, scored = [], []
    origins = cv.origins(n_folds, horizon, step)
    for origin in origins:
        history, rows = cv.split(series.frame, origin)
        histories.append(history)
        rows["_step"] = rows.groupby(SERIES_ID, sort=False).cumcount().to_numpy()  # 0 = first step after the cut
        scored.append(rows.loc[cv.scorable(rows)].reset_index(drop=True))
    scales = naive_scales(histories[0], series.season_length)
    for history in histories[1:]:  # a series that joins a later origin only: the scale of its first history
        later = history[~history[SERIES_ID].isin(scales.index)]
        if len(later):
            scales = pd.concat([scales, naive_scales(later, series.season_length)])
    observed = series.frame[TARGET].dropna()
    y_range = float(observed.max() - observed.min()) or 1.0
    return Folds(origins, histories, scored, scales, y_range)


def future_rows(series_frame: pd.DataFrame, history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Every row after each series' history up to `horizon` steps (scorable or not): what the
    model must forecast through, so recursion sees every step."""
    pos = series_frame.groupby(SERIES_ID, sort=False).cumcount()
    n_hist = series_frame[SERIES_ID].map(history.groupby(SERIES_ID).size()).fillna(0).astype(int)
    mask = (n_hist > 0) & (pos >= n_hist) & (pos < n_hist + horizon)  # series this origin validates only
    return series_frame.loc[mask.to_numpy()].drop(columns=[TARGET]).reset_index(drop=True)


@dataclass
class ForecastEvaluator(Evaluator):
    """Everything a forecasting trial reads: the series, the folds and the fixed settings."""

    series: SeriesData
    folds: Folds
    primary_metric: str
    horizon: int
    featurizer_args: dict[str, Any]
    seed: int = 0
    n_jobs: int = 1
    spark: Any = None  # on the driver only: statistical candidates fan out over the series
    mem_in_mb: int | None = None
    fallback_choice: Any = None  # fallback.FallbackChoice for the series too short for the search
    test_frame: pd.DataFrame | None = None  # test_data (the rows after the training data), on the driver only

    def data_bytes(self) -> int:
        return int(self.series.frame.memory_usage(deep=True).sum())

    def __getstate__(self):
        state = dict(self.__dict__)
        state["spark"] = None  # a session does not pickle; inside a Spark task models run locally
        state["test_frame"] = None  # trials never see the test rows
        return state

    def run(self, candidate: Candidate, timeout: float | None, timeout_reason: str) -> TrialResult:
        """evaluate() under a time limit. A candidate past it is recorded as timed out and its Spark
        jobs are cancelled (a driver-side fit cannot be killed and finishes in the background)."""
        spark = self.spark
        group = f"spark-automl-forecast-{candidate.iteration}-{time.time_ns()}"

        def work():
            if spark is not None:
                spark.sparkContext.setJobGroup(group, f"forecast candidate {candidate.model}", interruptOnCancel=True)
            return self.evaluate(candidate)

        started = time.time()
        try:
            return run_with_timeout(work, timeout, timeout_reason)
        except TrialTimeoutError as err:
            if spark is not None:
                spark.sparkContext.cancelJobGroup(group)
            result = self.failed(candidate, TIMED_OUT, f"TrialTimeoutError: {err}")
            result.started_at, result.duration = started, time.time() - started
            return result

    def make(self, model: str, params: dict[str, Any]):
        s = self.series
        return make_forecaster(model, params, freq=s.freq, season_length=s.season_length, covariates=s.covariates,
                               featurizer_args=self.featurizer_args, seed=self.seed, n_jobs=self.n_jobs,
                               spark=self.spark)

    def evaluate(self, candidate: Candidate) -> TrialResult:
        """One candidate over every origin; details hold its per-series metrics and the quantiles of its
        normalised errors that become its prediction intervals (ConformalIntervals)."""
        started = time.time()
        metric, folds = self.primary_metric, self.folds
        result = TrialResult(candidate.iteration, candidate.model, dict(candidate.params), candidate.origin, FAILED,
                             primary_metric=metric, started_at=started)
        try:
            preds, fit_s = [], 0.0
            for history, scored in zip(folds.histories, folds.scored):
                model = self.make(candidate.model, dict(candidate.params))
                t0 = time.time()
                model.fit(history)
                out = model.predict(future_rows(self.series.frame, history, self.horizon), levels=())
                fit_s += time.time() - t0
                merged = scored[[SERIES_ID, TIME]].merge(out[[SERIES_ID, TIME, "yhat"]], on=[SERIES_ID, TIME],
                                                         how="left")
                preds.append(merged["yhat"].to_numpy(np.float64))
            yhat = np.concatenate(preds)
            if not np.isfinite(yhat).all():
                raise ValueError(f"{int((~np.isfinite(yhat)).sum())} forecasts are NaN or infinite")
            metrics, table, scored_all = folds.score(yhat, (metric,))
            result.metrics, result.oof = metrics, yhat.astype(np.float32)
            result.score = metrics.get(metric, float("nan"))
            result.loss = to_loss(metric, result.score)
            result.fit_seconds = fit_s
            result.status = OK if np.isfinite(result.loss) else FAILED
            result.details[PER_SERIES] = table
            result.details[RESIDUALS] = conformal_quantiles(scored_all, yhat, folds.scales)
        except Exception as err:  # noqa: BLE001 - a failed candidate is recorded, the search goes on
            result.error = "".join(traceback.format_exception_only(type(err), err)).strip()
            result.error += "\n" + "".join(traceback.format_tb(err.__traceback__)[-3:])
        result.duration = time.time() - started
        return result


# The levels whose error quantiles a model keeps: any interval or quantile between them is interpolated
# (forecast_quantiles), and 80/95 are exact.
RESIDUAL_LEVELS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98)


def conformal_quantiles(scored: pd.DataFrame, yhat: np.ndarray, scales: pd.Series,
                        levels=RESIDUAL_LEVELS) -> dict[int, float]:
    """Split-conformal interval widths from the rolling-origin errors, pooled over series and steps:
    per level, the quantile of |error| / (series scale x sqrt(step + 1)). Scaled per series, so a
    panel's large series do not set the width of its small ones; pooled over steps (widening as a
    random walk's), so a few origins still give a usable quantile. See ConformalIntervals."""
    from .forecasters import normalised_errors

    errors = normalised_errors(scored, yhat, scales)
    if not len(errors):
        return {}
    return {level: float(np.quantile(errors, level / 100.0)) for level in levels}
