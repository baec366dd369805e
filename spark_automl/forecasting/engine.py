"""The forecasting search: every candidate is scored by rolling-origin CV over all series.

Statistical models fit per series over Spark (applyInPandas); global learners train once
over every series' lag features on the driver. Each candidate becomes a TrialResult, so
child runs, the leaderboard and ensemble selection work as for tabular tasks.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..config import AutoMLConfig
from ..data.prepare import SearchData
from ..metrics import to_loss
from ..models import REGISTRY
from ..search.stopping import Stopper
from ..search.sweeper import Sweeper
from ..errors import TrialTimeoutError
from ..search.trial import FAILED, OK, TIMED_OUT, Candidate, TrialResult, run_with_timeout
from . import cv
from .data import SeriesData
from .forecasters import LEVELS, make_forecaster
from .metrics import forecast_metrics, naive_scales
from .settings import SERIES_ID, STAT_MODEL_NAMES, TARGET, TIME

# Cheap first: the baselines, then ETS, the strongest global learners, then the slow ones.
STAT_ORDER = ("Naive", "SeasonalNaive", "Average", "SeasonalAverage", "ExponentialSmoothing")
SLOW_STAT = ("AutoArima", "Prophet", "Arimax")
GLOBAL_FIRST = 3  # global portfolio entries tried before the slow statistical models


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

    def score(self, yhat: np.ndarray) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
        """(metrics, per-series table, scored rows with yhat) for validation forecasts in that order."""
        scored = self.all_scored.assign(yhat=yhat)
        metrics, table = forecast_metrics(scored, self.scales, self.y_range)
        return metrics, table, scored

    def as_search_data(self) -> SearchData:
        """The validation points as a SearchData, so Caruana selection runs unchanged."""
        y = self.actual
        return SearchData("regression", np.zeros((len(y), 0), np.float32), y, None,
                          [(np.zeros(0, dtype=np.int64), np.arange(len(y)))], None, self.y_range)


@dataclass
class ForecastOutcome:
    results: list[TrialResult]
    stop_reason: str
    folds: Folds
    search_seconds: float
    per_series: dict[int, pd.DataFrame] = field(default_factory=dict)
    step_errors: dict[int, pd.DataFrame] = field(default_factory=dict)


def build_folds(series: SeriesData, horizon: int, n_folds: int, step: int) -> Folds:
    histories, scored = [], []
    origins = cv.origins(n_folds, horizon, step)
    for origin in origins:
        history, rows = cv.split(series.frame, origin)
        histories.append(history)
        rows["_step"] = rows.groupby(SERIES_ID, sort=False).cumcount().to_numpy()  # 0 = first step after the cut
        scored.append(rows.loc[cv.scorable(rows)].reset_index(drop=True))
    scales = naive_scales(histories[0], series.season_length)
    observed = series.frame[TARGET].dropna()
    y_range = float(observed.max() - observed.min()) or 1.0
    return Folds(origins, histories, scored, scales, y_range)


def future_rows(series_frame: pd.DataFrame, history: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Every row after each series' history up to `horizon` steps (scorable or not): what the
    model must forecast through, so recursion sees every step."""
    pos = series_frame.groupby(SERIES_ID, sort=False).cumcount()
    n_hist = series_frame[SERIES_ID].map(history.groupby(SERIES_ID).size()).fillna(0).astype(int)
    mask = (pos >= n_hist) & (pos < n_hist + horizon)
    return series_frame.loc[mask.to_numpy()].drop(columns=[TARGET]).reset_index(drop=True)


def evaluate_candidate(candidate: Candidate, series: SeriesData, folds: Folds, config: AutoMLConfig,
                       featurizer_args: dict[str, Any], spark, timeout: float | None = None,
                       timeout_reason: str = "iteration_timeout_minutes"):
    """evaluate() under a time limit. A candidate past it is recorded as timed out and its Spark
    jobs are cancelled (a driver-side fit cannot be killed and finishes in the background)."""
    group = f"spark-automl-forecast-{candidate.iteration}-{time.time_ns()}"

    def work():
        if spark is not None:
            spark.sparkContext.setJobGroup(group, f"forecast candidate {candidate.model}", interruptOnCancel=True)
        return evaluate(candidate, series, folds, config, featurizer_args, spark)

    started = time.time()
    try:
        return run_with_timeout(work, timeout, timeout_reason)
    except TrialTimeoutError as err:
        if spark is not None:
            spark.sparkContext.cancelJobGroup(group)
        result = TrialResult(candidate.iteration, candidate.model, dict(candidate.params), candidate.origin, TIMED_OUT,
                             primary_metric=config.metric, started_at=started, error=f"TrialTimeoutError: {err}",
                             duration=time.time() - started)
        return result, None, None


def evaluate(candidate: Candidate, series: SeriesData, folds: Folds, config: AutoMLConfig,
             featurizer_args: dict[str, Any], spark) -> tuple[TrialResult, pd.DataFrame | None, pd.DataFrame | None]:
    """(result, per-series metrics, |error| by horizon step) for one candidate over every origin."""
    started = time.time()
    metric = config.metric
    result = TrialResult(candidate.iteration, candidate.model, dict(candidate.params), candidate.origin, FAILED,
                         primary_metric=metric, started_at=started)
    horizon = config.forecasting_parameters.horizon
    try:
        preds, fit_s = [], 0.0
        for history, scored in zip(folds.histories, folds.scored):
            model = make_forecaster(candidate.model, candidate.params, freq=series.freq,
                                    season_length=series.season_length, covariates=series.covariates,
                                    featurizer_args=featurizer_args, seed=config.seed,
                                    n_jobs=config.cores_per_trial, spark=spark)
            t0 = time.time()
            model.fit(history)
            future = future_rows(series.frame, history, horizon)
            out = model.predict(future, levels=())
            fit_s += time.time() - t0
            merged = scored[[SERIES_ID, TIME]].merge(out[[SERIES_ID, TIME, "yhat"]], on=[SERIES_ID, TIME], how="left")
            preds.append(merged["yhat"].to_numpy(np.float64))
        yhat = np.concatenate(preds)
        if not np.isfinite(yhat).all():
            raise ValueError(f"{int((~np.isfinite(yhat)).sum())} forecasts are NaN or infinite")
        metrics, table, scored_all = folds.score(yhat)
        result.metrics, result.oof = metrics, yhat.astype(np.float32)
        result.score = metrics.get(metric, float("nan"))
        result.loss = to_loss(metric, result.score)
        result.fit_seconds = fit_s
        result.status = OK if np.isfinite(result.loss) else FAILED
        steps = scored_all.assign(abs_err=np.abs(scored_all[TARGET] - yhat))[["_step", "abs_err"]]
        result.duration = time.time() - started
        return result, table, steps
    except Exception as err:  # noqa: BLE001 - a failed candidate is recorded, the search goes on
        result.error = "".join(traceback.format_exception_only(type(err), err)).strip()
        result.error += "\n" + "".join(traceback.format_tb(err.__traceback__)[-3:])
        result.duration = time.time() - started
        return result, None, None


def candidate_order(config: AutoMLConfig, has_known_covariates: bool) -> tuple[list[str], list]:
    """(statistical models in run order, global learner specs) among the allowed models."""
    allowed = config.candidate_models()
    stats = [m for m in (*STAT_ORDER, *SLOW_STAT) if m in allowed]
    if not has_known_covariates and "Arimax" in stats and config.allowed_models is None:
        stats.remove("Arimax")  # nothing to regress on
    specs = [REGISTRY.get(m, "regression") for m in allowed if m not in STAT_MODEL_NAMES]
    if config.allowed_models is None:  # slow or weak without tuning on lag features
        specs = [s for s in specs if s.name not in ("KNN", "SGD", "OnlineGradientDescentRegressor", "LassoLars",
                                                    "FastLinearRegressor", "DecisionTree")]
    return stats, specs


def run_forecast_search(spark, series: SeriesData, folds: Folds, config: AutoMLConfig, featurizer_args: dict,
                        stopper: Stopper, on_results: Callable[[list[TrialResult]], None]) -> ForecastOutcome:
    t0 = time.time()
    known = [c for c in series.covariates if c not in config.forecasting_parameters.unknown_features]
    stats, specs = candidate_order(config, bool(known))
    sweeper = Sweeper(specs, seed=config.seed) if specs else None
    queue: list[Candidate] = []
    iteration = 0
    fast = [m for m in stats if m not in SLOW_STAT]
    slow = [m for m in stats if m in SLOW_STAT]
    for m in fast:
        queue.append(Candidate(iteration, m, {}, "portfolio"))
        iteration += 1
    if sweeper is not None:
        sweeper.next_iteration = iteration
        first = sweeper.ask(min(GLOBAL_FIRST, len(sweeper.queue)))
        queue.extend(first)
        iteration = sweeper.next_iteration
    for m in slow:
        queue.append(Candidate(iteration, m, {}, "portfolio"))
        iteration += 1
    outcome = ForecastOutcome([], "", folds, 0.0)
    while not stopper.should_stop():
        if not queue:
            if sweeper is None:
                break
            sweeper.next_iteration = iteration
            queue = sweeper.ask(1)
            iteration = sweeper.next_iteration
        candidate = queue.pop(0)
        remaining, limits = stopper.remaining(), [config.trial_timeout_seconds]
        reason = "iteration_timeout_minutes"
        if remaining is not None and (config.trial_timeout_seconds is None or remaining < config.trial_timeout_seconds):
            limits, reason = [remaining], "experiment_timeout_minutes (the experiment's remaining budget)"
        result, table, steps = evaluate_candidate(candidate, series, folds, config, featurizer_args, spark,
                                                  limits[0], reason)
        if sweeper is not None and candidate.model not in STAT_MODEL_NAMES:
            sweeper.tell(result)
        if table is not None:
            outcome.per_series[result.iteration] = table
            outcome.step_errors[result.iteration] = steps
        outcome.results.append(result)
        stopper.observe(result)
        on_results([result])
    outcome.stop_reason = stopper.should_stop() or "search space exhausted"
    outcome.search_seconds = time.time() - t0
    return outcome


def residual_quantiles(steps: pd.DataFrame, levels=LEVELS) -> dict[int, dict[int, float]]:
    """Per level and horizon step, the empirical quantile of |validation error|: the
    half-width of a global model's prediction interval (split conformal)."""
    out: dict[int, dict[int, float]] = {}
    for level in levels:
        q = steps.groupby("_step")["abs_err"].quantile(level / 100.0)
        out[level] = {int(k): float(v) for k, v in q.items()}
    return out
