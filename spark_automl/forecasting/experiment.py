"""submit() for task='forecasting': load the series, search, ensemble, refit, log, return a ForecastRun."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import infer_signature

from ..config import AutoMLConfig
from ..data.guardrails import to_frame
from ..data.ingest import to_spark
from ..engine import best_result
from ..ensemble.build import (EnsembleSpec, ensemble_params, member_results, parallel_seconds,
                              refit_seconds)
from ..ensemble.selection import MAX_SEED, caruana
from ..errors import ConfigError
from ..metrics import to_loss
from ..progress import Progress
from ..run import AutoMLRun
from ..search.stopping import Stopper
from ..search.trial import OK, TrialResult
from . import cv
from .data import check_series_schema, load_series
from .engine import ForecastOutcome, build_folds, residual_quantiles, run_forecast_search
from .forecasters import GlobalForecaster, make_forecaster
from .model import ForecastingModel, ForecastPyfunc, SeriesSchema
from .settings import SERIES_ID, STAT_MODEL_NAMES, TIME

VOTING = "VotingEnsemble"
RESERVE_FRACTION, RESERVE_MAX = 0.1, 30.0
LOGGING_SECONDS = 8.0  # pyfunc log_model + leaderboard + chart


def featurizer_args(config: AutoMLConfig, series) -> dict[str, Any]:
    fp = config.forecasting_parameters
    return dict(freq=series.freq, season_length=series.season_length, target_lags=fp.target_lags,
                rolling_window=fp.target_rolling_window_size, covariates=series.covariates,
                unknown_covariates=fp.unknown_features, feature_lags=fp.feature_lags,
                holidays_country=fp.country_or_region_for_holidays, use_stl=fp.use_stl, horizon=fp.horizon)


def submit_forecasting(experiment, config: AutoMLConfig, show_output: bool, run_name: str | None,
                       tags: dict[str, str] | None) -> "ForecastRun":
    from ..tracking import Tracker, configure

    started = time.time()
    fp = config.forecasting_parameters
    progress = Progress(config.metric, enabled=show_output, pipeline_prefix="")
    spark = experiment._session()
    if config.training_data is None:
        raise ConfigError("AutoMLConfig has no training_data. Pass training_data=<DataFrame | table | path>.")
    df = to_spark(spark, config.training_data, "training_data")
    check_series_schema(df, config.label_column_name, fp)  # column errors before any Spark job
    configure(experiment.tracking_uri)
    tracker = Tracker(experiment.name, experiment.tracking_uri)
    timeout = config.timeout_seconds
    reserve = 0.0 if timeout is None else min(RESERVE_FRACTION * timeout, RESERVE_MAX)
    stopper = Stopper(config.metric, config.max_iterations, timeout, config.experiment_exit_score,
                      config.enable_early_stopping, start=started, reserve=reserve)
    progress.stage(f"Experiment {experiment.name!r}: task=forecasting, horizon={fp.horizon}, "
                   f"primary_metric={config.metric}")
    step = cv.resolve_step(fp.cv_step_size, fp.horizon)
    n_folds_hint = config.n_cross_validations if isinstance(config.n_cross_validations, int) else cv.DEFAULT_FOLDS
    series = load_series(spark, df, config.label_column_name, fp, n_folds_hint, step)
    lengths = series.frame.groupby(SERIES_ID).size()
    n_folds = cv.resolve_folds(config.n_cross_validations, int(lengths.min()), fp.horizon, step)
    folds = build_folds(series, fp.horizon, n_folds, step)
    stopper.reserve_for = RefitReserve(n_folds, config.max_concurrent_iterations)
    progress.stage(f"Data: {series.n_series} series, freq {series.freq!r}, season {series.season_length}, "
                   f"{len(series.frame)} rows; validation: {n_folds} rolling origins, {step} steps apart")
    for g in series.guardrails:
        progress.stage(f"Guardrail {g.name}: {g.status.upper()} - {g.description}")
    tracker.start_parent(run_name or f"automl_{time.strftime('%Y%m%d_%H%M%S')}",
                         params={k: v for k, v in config.to_dict().items() if v is not None},
                         tags={"task": "forecasting", "primary_metric": config.metric, "automl": "spark-automl",
                               **(tags or {})})
    status, timings = "FAILED", {}
    try:
        tracker.log_dict([{"name": g.name, "status": g.status, "description": g.description, "details": g.details}
                          for g in series.guardrails], "guardrails.json")

        def on_results(batch):
            tracker.log_trials(batch)
            progress.trials(batch)

        args = featurizer_args(config, series)
        outcome = run_forecast_search(spark, series, folds, config, args, stopper, on_results)
        progress.stage(f"Search stopped: {outcome.stop_reason}; {len(outcome.results)} trials")
        t0 = time.time()
        if config.enable_voting_ensemble:
            time_left = None if timeout is None else started + timeout - time.time() - LOGGING_SECONDS
            ensemble = voting_ensemble(outcome, config, time_left)
            if ensemble is not None:
                outcome.results.append(ensemble)
                on_results([ensemble])
        best = best_result(outcome.results)
        progress.stage(f"Refitting the best forecaster ({best.model}, {config.metric}={best.score:.5f}) on all rows")
        model = final_model(best, outcome, series, config, args, spark)
        timings["refit"] = time.time() - t0
        run = ForecastRun(config, series, outcome, tracker, model, best, None, time.time() - started)
        t0 = time.time()
        best_run_id = tracker.child_run_ids.get(best.iteration) or tracker.parent_run_id
        run.model_uri = log_forecaster(tracker, model, series, best_run_id)
        tracker.log_text(run.leaderboard.drop(columns=["params"]).to_csv(index=False), "leaderboard.csv")
        run.log_charts()
        timings["logging"] = time.time() - t0
        status = "FINISHED"
        run.wall_seconds = time.time() - started
        run.timings = timings
        progress.stage(f"Best: iteration {best.iteration} {best.model} {config.metric}={best.score:.5f}; "
                       f"model at {run.model_uri}; {run.wall_seconds:.1f}s in all")
        return run
    finally:
        done = status == "FINISHED"
        tracker.close_parent(status, timings, best if done else None, len(outcome.results) if done else 0,
                             stopper.reason or "", time.time() - started)


def log_forecaster(tracker, model: ForecastingModel, series, run_id: str) -> str:
    """Log as an MLflow pyfunc whose input is X_future (ids, time, known covariates)."""
    s = model.schema
    x_example = _future_example(series, model, limit=5)
    if not model.uses_covariates:
        x_example = x_example[[*s.id_columns, s.time_column]]
    output = model.forecast(x_example)  # a few series only: the example must not cost a full forecast
    return tracker.log_pyfunc(ForecastPyfunc(model), run_id, x_example, infer_signature(x_example, output))


def _future_example(series, model: ForecastingModel, limit: int | None = None) -> pd.DataFrame:
    """The next step of (the first `limit`) series, with each series' last covariates repeated:
    an X_future for the logged input example."""
    s = model.schema
    last = series.frame.groupby(SERIES_ID).tail(1).set_index(SERIES_ID)
    rows = []
    for uid, t in list(s.last_time.items())[:limit]:
        for when in s.times_after(t, 1):
            row = {c: last.at[uid, c] for c in [*s.id_columns, *s.covariates]}
            row[s.time_column] = when
            rows.append(row)
    return pd.DataFrame(rows)


def refit_estimate(result: TrialResult, n_folds: int) -> float:
    """A statistical model refits nothing (it forecasts from the stored history); a global
    learner refits once on every row."""
    return 0.0 if result.model in STAT_MODEL_NAMES else refit_seconds(result, n_folds)


class RefitReserve:
    """Seconds kept at the end of the search: the refit of the best global learners (the likely
    ensemble members), `workers` at a time, plus model logging."""

    def __init__(self, n_folds: int, workers: int):
        self.n_folds, self.workers, self.top = n_folds, max(workers, 1), []

    def __call__(self, result: TrialResult) -> float:
        self.top = sorted([*self.top, result], key=lambda r: (r.loss, r.iteration))[:MAX_SEED]
        return parallel_seconds([refit_estimate(r, self.n_folds) for r in self.top], self.workers) + LOGGING_SECONDS


def voting_ensemble(outcome: ForecastOutcome, config: AutoMLConfig, time_left: float | None = None) -> TrialResult | None:
    """Caruana selection over the validation forecasts of every origin, as for tabular tasks,
    among the candidates that can be refit in the time left."""
    started = time.time()
    data = outcome.folds.as_search_data()
    n_folds = len(outcome.folds.origins)
    library = [r for r in outcome.results if time_left is None or refit_estimate(r, n_folds) <= time_left]
    chosen = caruana(library, data, config.metric, config.ensemble_steps)
    if chosen is None or len(chosen.iterations) < 2:
        return None
    if time_left is not None and sum(refit_estimate(r, n_folds) for r in library
                                     if r.iteration in chosen.iterations) > time_left:
        return None
    by_iteration = {r.iteration: r for r in outcome.results}
    yhat = chosen.blend({i: by_iteration[i].oof for i in chosen.iterations})
    metrics, table, _ = outcome.folds.score(yhat)
    iteration = max(r.iteration for r in outcome.results) + 1
    spec = EnsembleSpec(VOTING, chosen.iterations, tuple(by_iteration[i].model for i in chosen.iterations),
                        chosen.weights)
    score = metrics[config.metric]
    outcome.per_series[iteration] = table
    return TrialResult(iteration, VOTING, ensemble_params(spec), "ensemble", OK, metrics, to_loss(config.metric, score),
                       config.metric, score, yhat.astype(np.float32),
                       sum(by_iteration[i].fit_seconds for i in chosen.iterations), 0.0, time.time() - started,
                       "", started, spec)


def final_model(result: TrialResult, outcome: ForecastOutcome, series, config: AutoMLConfig, args: dict,
                spark) -> ForecastingModel:
    """The chosen forecaster(s) refit on every row of every series."""
    members = member_results(result, outcome.results)
    weights = list(result.ensemble.weights) if result.ensemble is not None else [1.0]
    fitted = []
    for m in members:
        forecaster = make_forecaster(m.model, m.params, freq=series.freq, season_length=series.season_length,
                                     covariates=series.covariates, featurizer_args=args, seed=config.seed,
                                     n_jobs=config.cores_per_trial, spark=spark)
        forecaster.fit(series.frame)
        if isinstance(forecaster, GlobalForecaster) and m.iteration in outcome.step_errors:
            forecaster.residual_quantiles = residual_quantiles(outcome.step_errors[m.iteration])
        fitted.append(forecaster)
    fp = config.forecasting_parameters
    last = series.frame.groupby(SERIES_ID)[TIME].max()
    schema = SeriesSchema(fp.time_column_name, series.id_columns, config.label_column_name, series.freq, fp.horizon,
                          series.integer_time, list(series.covariates),
                          {k: (int(v) if series.integer_time else pd.Timestamp(v)) for k, v in last.items()},
                          _id_values(series))
    known = [c for c in series.covariates if c not in fp.unknown_features]
    uses_covariates = bool(known) and any(m.model not in STAT_MODEL_NAMES or m.model == "Arimax" for m in members)
    return ForecastingModel(fitted, weights, [m.model for m in members], schema, uses_covariates)


def _id_values(series) -> dict[str, tuple]:
    if not series.id_columns:
        return {}
    first = series.frame.groupby(SERIES_ID, sort=False)[series.id_columns].first()
    return {uid: tuple(row) for uid, row in zip(first.index, first.itertuples(index=False))}


class ForecastRun(AutoMLRun):
    """AutoMLRun for forecasting: the leaderboard adds the per-series distribution of MASE."""

    def __init__(self, config, series, outcome: ForecastOutcome, tracker, model, best, model_uri, wall_seconds):
        super().__init__(config, None, outcome, tracker, model, best, model_uri, wall_seconds)
        self.series = series

    @property
    def leaderboard(self) -> pd.DataFrame:
        board = super().leaderboard
        if board.empty:
            return board
        by_iteration = {r.iteration: r for r in self.outcome.results}
        for name in ("MASE", "series_p10_MASE", "series_median_MASE", "series_p90_MASE",
                     "forecast_symmetric_mean_absolute_percentage_error"):
            board[name] = [by_iteration[i].metrics.get(name, np.nan) for i in board["iteration"]]
        board["pipeline"] = board["model"]
        return board

    def per_series_metrics(self, iteration: int | None = None) -> pd.DataFrame:
        """MASE, sMAPE and MAPE of every series for one child (the best by default)."""
        result = self._result(iteration, None)
        return self.outcome.per_series[result.iteration].reset_index()

    def get_guardrails(self) -> pd.DataFrame:
        return to_frame(self.series.guardrails)

    def forecast(self, X_future: pd.DataFrame | None = None, iteration: int | None = None) -> pd.DataFrame:
        return self._model(self._result(iteration, None)).forecast(X_future)

    def print_model(self, iteration=None) -> str:
        result = self._result(iteration, None)
        fp = self.config.forecasting_parameters
        lines = [f"Forecaster (iteration {result.iteration}, {self.config.metric}={result.score:.5f})",
                 f"  series: {self.series.n_series}, freq {self.series.freq!r}, season {self.series.season_length}, "
                 f"horizon {fp.horizon}", f"  model: {result.model}"]
        for key, value in sorted(result.params.items()):
            lines.append(f"    {key} = {value}")
        text = "\n".join(lines)
        print(text)
        return text

    def log_charts(self, child_or_iteration=None) -> dict[int, list[str]]:
        """Forecast vs actual on the last validation origin, for up to 6 series."""
        from .charts import forecast_vs_actual

        result = self._result(child_or_iteration, None)
        folds = self.outcome.folds
        n_last = len(folds.scored[-1])
        scored = folds.scored[-1].assign(yhat=result.oof[-n_last:].astype(np.float64))
        png = forecast_vs_actual(folds.histories[-1], scored, self.series.season_length)
        run_id = self.tracker.child_run_ids.get(result.iteration) or self.tracker.parent_run_id
        self.tracker.log_files({"forecast_vs_actual.png": png}, "charts", run_id)
        return {result.iteration: ["forecast_vs_actual.png"]}

    def _model(self, result: TrialResult):
        with self._lock:
            if result.iteration not in self._models:
                args = featurizer_args(self.config, self.series)
                self._models[result.iteration] = final_model(result, self.outcome, self.series, self.config, args,
                                                             None)
            return self._models[result.iteration]

    def _log_model(self, result: TrialResult) -> str:
        run_id = self.tracker.child_run_ids.get(result.iteration) or self.tracker.parent_run_id
        return log_forecaster(self.tracker, self._model(result), self.series, run_id)

    def _unsupported(self, *args, **kwargs):
        raise ConfigError("This method is for classification and regression runs; for forecasting use "
                          "run.forecast(X_future), run.per_series_metrics() and run.log_charts().")

    test = explain = export_onnx = generate_code = _unsupported

