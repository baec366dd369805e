"""Forecasting: series prepared by Spark, rolling-origin CV over every series, the
statistical forecasters and the global learners of the one registry, a voting ensemble,
and a ForecastingModel logged as an MLflow pyfunc whose input is X_future."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..budget import refit_seconds
from ..config import AutoMLConfig
from ..data.ingest import to_spark
from ..ensemble.build import build_ensembles, member_results
from ..errors import ConfigError, DataError
from ..metrics import ValidationTarget
from ..models import REGISTRY, STATISTICAL
from ..search.sweeper import Sweeper, portfolio
from ..search.trial import TrialResult
from ..forecasting import cv
from ..forecasting.data import check_series_schema, load_series
from ..forecasting.fallback import choose_fallback
from ..forecasting.forecasters import ConformalIntervals, StatisticalForecaster, is_statistical
from ..forecasting.model import ForecastingModel, SeriesSchema
from ..forecasting.settings import SERIES_ID
from ..forecasting.selection import ASSIGNMENT, per_series_best
from ..forecasting.trial import CRPS, PER_SERIES, RESIDUALS, ForecastEvaluator, Folds, build_folds
from .base import Problem, Say, Task

GLOBAL_FIRST = 3  # global learners' portfolio entries tried before the slow statistical models
# slow or weak without tuning on lag features: searched only when allowed explicitly
UNTUNED_GLOBAL = ("KNN", "SGD", "OnlineGradientDescentRegressor", "LassoLars", "FastLinearRegressor", "DecisionTree")
CHART_SERIES = 6  # series kept with the run record for the forecast chart
EXAMPLE_SERIES = 5  # series in the logged input example


def chart_labels(config: AutoMLConfig) -> dict[str, Any]:
    """The names the forecasting charts put on their axes and panels."""
    fp = config.forecasting_parameters
    return {"time_name": fp.time_column_name, "target_name": config.label_column_name,
            "id_columns": list(fp.time_series_id_column_names or [])}


class ForecastTarget(ValidationTarget):
    """The validation points of every origin; scored with the forecasting metrics (MASE...)."""

    def __init__(self, folds: Folds):
        super().__init__("regression", folds.actual, y_range=folds.y_range)
        self.folds = folds

    def score(self, oof: np.ndarray, also: tuple[str, ...] = ()) -> dict[str, float]:
        return self.folds.score(np.asarray(oof, dtype=np.float64), tuple(also))[0]


def featurizer_args(config: AutoMLConfig, series) -> dict[str, Any]:
    fp = config.forecasting_parameters
    return dict(freq=series.freq, season_length=series.season_length, target_lags=fp.target_lags,
                rolling_window=fp.target_rolling_window_size, covariates=series.covariates,
                unknown_covariates=fp.unknown_features, feature_lags=fp.feature_lags,
                holidays_country=fp.country_or_region_for_holidays, use_stl=fp.use_stl, horizon=fp.horizon)


def candidate_queue(config: AutoMLConfig, has_known_covariates: bool) -> tuple[list, list]:
    """(specs, portfolio in run order): the cheap statistical models, the first global learners,
    the slow statistical models, then the rest of the global learners' portfolio."""
    allowed = config.candidate_models()
    stats = [s for s in REGISTRY.for_task("forecasting") if s.kind == STATISTICAL and s.name in allowed]
    if not has_known_covariates and config.allowed_models is None:
        stats = [s for s in stats if not s.uses_covariates]  # nothing to regress on
    learners = [REGISTRY.get(m, "regression") for m in allowed if not is_statistical(m)]
    if config.allowed_models is None:
        learners = [s for s in learners if s.name not in UNTUNED_GLOBAL]
    learners.sort(key=lambda s: (s.priority, s.name))
    first = [(s.name, {}) for s in stats if not s.slow]
    slow = [(s.name, {}) for s in stats if s.slow]
    learned = portfolio(learners)
    return [*stats, *learners], [*first, *learned[:GLOBAL_FIRST], *slow, *learned[GLOBAL_FIRST:]]


class ForecastingTask(Task):
    name = "forecasting"
    pipeline_prefix = ""
    capabilities = frozenset({"forecast", "test", "explain", "code"})
    leaderboard_metrics = ("MASE", "series_p10_MASE", "series_median_MASE", "series_p90_MASE",
                           "forecast_symmetric_mean_absolute_percentage_error", CRPS)

    def check(self, spark, config: AutoMLConfig):
        if config.training_data is None:
            raise DataError("AutoMLConfig has no training_data. Pass training_data=<DataFrame | table | path>.")
        df = to_spark(spark, config.training_data, "training_data")
        check_series_schema(df, config.label_column_name, config.forecasting_parameters)
        if config.test_size is not None:
            raise ConfigError(f"test_size={config.test_size} splits rows at random, which a forecast cannot be tested "
                              "on. For forecasting pass test_data: the rows that follow the training data, with "
                              f"{config.label_column_name!r}; run.test() then forecasts them from rolling origins.")
        if config.test_data is not None:
            fp = config.forecasting_parameters
            test = to_spark(spark, config.test_data, "test_data")
            needed = [*fp.id_columns, fp.time_column_name, config.label_column_name]
            missing = [c for c in needed if c not in test.columns]
            if missing:
                raise DataError(f"test_data lacks column(s) {missing}; it needs the ids, the time and the label "
                                f"{needed} (and the covariates the training data have), for the rows after the "
                                "training data.")
        return df

    def prepare(self, spark, config: AutoMLConfig, loaded: Any, say: Say) -> Problem:
        fp = config.forecasting_parameters
        step = cv.resolve_step(fp.cv_step_size, fp.horizon)
        n_folds_hint = config.n_cross_validations if isinstance(config.n_cross_validations, int) else cv.DEFAULT_FOLDS
        say("Loading the series with Spark (parse, frequency, gaps, short series)")
        series = load_series(spark, loaded, config.label_column_name, fp, n_folds_hint, step, config.max_rows_in_memory,
                             seed=config.seed)
        lengths = series.frame.groupby(SERIES_ID).size()
        # the median series sets how far back origins go; shorter series join the later ones (cv.split)
        n_folds = cv.resolve_folds(config.n_cross_validations, int(lengths.median()), fp.horizon, step, len(lengths))
        folds = build_folds(series, fp.horizon, n_folds, step)
        known = [c for c in series.covariates if c not in fp.unknown_features]
        specs, queue = candidate_queue(config, bool(known))
        evaluator = ForecastEvaluator(series, folds, config.metric, fp.horizon, featurizer_args(config, series),
                                      config.seed, config.cores_per_trial, spark, config.mem_in_mb)
        if config.test_data is not None:  # the rows after the training data: a forecast's test set is small
            evaluator.test_frame = to_spark(spark, config.test_data, "test_data").toPandas()
        if series.dropped_series:
            evaluator.fallback_choice = choose_fallback(series.short_frame, series.season_length, fp.horizon,
                                                        series.freq)
            say(f"{len(series.dropped_series)} series too short for the search will be forecast by "
                f"{evaluator.fallback_choice.model} (chosen on their own holdout)")
        searched = (f"{series.n_series} series" if series.store is None else
                    f"{series.n_series} series (searched on a sample of {series.n_searched_series})")
        description = (f"{searched}, freq {series.freq!r}, season {series.season_length}, "
                       f"{len(series.frame)} rows; validation: {n_folds} rolling origins, {step} steps apart")
        return Problem(evaluator, ForecastTarget(folds), Sweeper(specs, seed=config.seed, queue=queue), n_folds,
                       len(folds.actual), len(series.covariates), series.guardrails, description, evaluator)

    def refit_cost(self, problem: Problem, result: TrialResult) -> float:
        """A statistical model refits nothing (it forecasts from the stored history); a global
        learner refits once on every row."""
        return 0.0 if is_statistical(result.model) else refit_seconds(result.fit_seconds, problem.n_splits)

    def ensembles(self, problem, results, config, say, time_left):
        _warn_if_only_baselines(results, config, say)
        cost = lambda r: self.refit_cost(problem, r)  # noqa: E731
        out = build_ensembles(results, problem.target, config, cost, say, time_left)
        if config.enable_voting_ensemble:  # the ensembles switch turns every post-search combination off
            iteration = max(r.iteration for r in [*results, *out]) + 1
            chosen = per_series_best(results, problem.target, config.metric, iteration, cost, time_left,
                                     config.max_concurrent_iterations, say)
            if chosen is not None:
                out.append(chosen)
        for r in out:
            r.details[PER_SERIES] = problem.target.folds.score(r.oof.astype(np.float64))[1]
        return out

    def fit_final(self, problem, result, results, config, cache, spark=None, say=None,
                  time_left=None) -> ForecastingModel:
        """The chosen forecaster(s) refit on every row of every series. For a large panel, global
        learners train on the searched sample of series, and every member forecasts from the stored
        history of the whole panel (the model holds no history of its own)."""
        ev: ForecastEvaluator = problem.state
        series = ev.series
        members = member_results(result, results)
        weights = list(result.ensemble.weights) if result.ensemble is not None and result.ensemble.weights else (
            [1.0 / len(members)] * len(members))
        position = {m.iteration: j for j, m in enumerate(members)}
        assignment = {uid: position[i] for uid, i in (result.details.get(ASSIGNMENT) or {}).items()}
        fitted = []
        for m in members:
            if m.iteration not in cache:
                forecaster = ev.make(m.model, dict(m.params))
                forecaster.fit(series.frame)
                if m.details.get(RESIDUALS):  # every member's intervals: split conformal on its own errors
                    forecaster.intervals = ConformalIntervals(m.details[RESIDUALS], series.season_length)
                cache[m.iteration] = forecaster
            fitted.append(cache[m.iteration])
        fp = config.forecasting_parameters
        fallback = None
        if ev.fallback_choice is not None:
            fallback = StatisticalForecaster(ev.fallback_choice.model, series.freq, series.season_length,
                                             spark=ev.spark).fit(series.short_frame)
        last = series.index.set_index(SERIES_ID)["last"]
        schema = SeriesSchema(fp.time_column_name, series.id_columns, config.label_column_name, series.freq,
                              fp.horizon, series.integer_time, list(series.covariates),
                              {k: (int(v) if series.integer_time else pd.Timestamp(v)) for k, v in last.items()},
                              _id_values(series))
        known = [c for c in series.covariates if c not in fp.unknown_features]
        uses_covariates = bool(known) and any(not is_statistical(m.model) or REGISTRY.get(m.model, "forecasting")
                                              .uses_covariates for m in members)
        return ForecastingModel(fitted, weights, [m.model for m in members], schema, uses_covariates, series.store,
                                fallback, series.dropped_series, assignment or None)

    def model_payload(self, problem, model: ForecastingModel):
        example = _future_example(problem.state.series, model, EXAMPLE_SERIES)
        if not model.uses_covariates:
            example = example[[*model.schema.id_columns, model.schema.time_column]]
        output = model.forecast(example)  # a few series only: the example must not cost a full forecast
        from mlflow.models import infer_signature

        from ..forecasting.pyfunc import ForecastPyfunc

        return "pyfunc", ForecastPyfunc(model), example, _with_optional_label(infer_signature(example, output),
                                                                               model.schema.label)

    def record_info(self, problem, config) -> dict[str, Any]:
        ev: ForecastEvaluator = problem.state
        series, folds = ev.series, ev.folds
        shown = list(folds.scored[-1][SERIES_ID].drop_duplicates()[:CHART_SERIES])
        history = folds.histories[-1]
        return {
            "n_series": series.n_series, "freq": series.freq, "season_length": series.season_length,
            "horizon": config.forecasting_parameters.horizon, "integer_time": series.integer_time, "label": config.label_column_name,
            "chart_history": history[history[SERIES_ID].isin(shown)].reset_index(drop=True),
            "chart_scored": folds.scored[-1], "n_last_scored": len(folds.scored[-1]),
            "searched_series": sorted(set(series.index[SERIES_ID]) - set(series.dropped_series)),
            "test_frame": ev.test_frame, "has_test": ev.test_frame is not None, "y_range": folds.y_range,
            "fallback": None if ev.fallback_choice is None else {
                "choice": ev.fallback_choice, "min_length": series.min_length,
                "lengths": _lengths(series)},
        }

    def describe_data(self, info: dict) -> list[str]:
        return [f"  series: {info['n_series']}, freq {info['freq']!r}, season {info['season_length']}, "
                f"horizon {info['horizon']}"]

    def validation_charts(self, config, info, result):
        """Forecast vs actual on the last validation origin, for up to CHART_SERIES series."""
        from ..forecasting.charts import forecast_vs_actual

        n_last = info["n_last_scored"]
        scored = info["chart_scored"].assign(yhat=result.oof[-n_last:].astype(np.float64))
        return {"forecast_vs_actual.png": forecast_vs_actual(info["chart_history"], scored, info["season_length"],
                                                             **chart_labels(config))}

    def finish_steps(self, config, info):
        return [("charts", "log_charts", True, False), ("forecast_chart", "log_forecast_chart", True, False),
                ("test", "test", bool(info.get("has_test")), True),
                ("explanations", "explain", bool(config.model_explainability), True),
                ("generated_code", "generate_code", bool(config.enable_code_generation), False)]


BASELINES = ("Naive", "SeasonalNaive", "Average", "SeasonalAverage")  # no fitted parameters


class BaselineOnlyWarning(UserWarning):
    """The search let no forecaster beyond the baselines finish: the model is a baseline."""


def _warn_if_only_baselines(results, config: AutoMLConfig, say: Say) -> None:
    """A run whose budget let only the baselines finish says so, rather than return a flat line silently."""
    ok = {r.model for r in results if r.status == "ok"}
    allowed = set(config.candidate_models())
    if not ok or not ok <= set(BASELINES) or allowed <= set(BASELINES):
        return
    message = (f"Only baseline forecasters finished ({', '.join(sorted(ok))}): the search stopped (budget or "
               "iterations) before any other model did, so the model is a baseline. Fix: raise "
               "experiment_timeout_minutes or iterations, or allow fewer, faster models.")
    say("Warning: " + message)
    warnings.warn(message, BaselineOnlyWarning, stacklevel=2)


def _future_example(series, model: ForecastingModel, limit: int | None = None) -> pd.DataFrame:
    """The next step of (the first `limit`) series, with each series' last covariates repeated:
    an X_future for the logged input example."""
    s = model.schema
    last = series.frame.groupby(SERIES_ID).tail(1).set_index(SERIES_ID)
    rows = []
    for uid in list(last.index)[:limit]:  # searched series: a large panel's frame holds only those
        for when in s.times_after(s.last_time[uid], 1):
            row = {c: last.at[uid, c] for c in [*s.id_columns, *s.covariates]}
            row[s.time_column] = when
            rows.append(row)
    return pd.DataFrame(rows)


def _lengths(series) -> dict[str, int]:
    """The length of every series left out of the search (what the per-series table reports)."""
    lengths = series.index.set_index(SERIES_ID)["length"]
    return {uid: int(lengths[uid]) for uid in series.dropped_series if uid in lengths.index}


def _id_values(series) -> dict[str, tuple]:
    if not series.id_columns:
        return {}
    first = series.index.set_index(SERIES_ID, drop=False)[series.id_columns]
    return {uid: tuple(row) for uid, row in zip(first.index, first.itertuples(index=False))}


def _with_optional_label(signature, label: str):
    """The served model takes the label column too, optionally: its values are actuals (context)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, DataType, Schema

    inputs = [*signature.inputs.inputs, ColSpec(DataType.double, label, required=False)]
    return ModelSignature(inputs=Schema(inputs), outputs=signature.outputs, params=signature.params)

