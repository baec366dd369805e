"""Rebuild one forecasting child from its settings: what the generated training code calls.

The data preparation, the rolling origins and every member's validation run are the experiment's own
(ForecastingTask.prepare and ForecastEvaluator.evaluate), so the printed score is the logged one; the
members' models and hyperparameters are plain literals in the generated script, to read and edit.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from ..config import AutoMLConfig
from ..ensemble.build import VOTING, EnsembleSpec, _result
from ..errors import DataError
from ..search.trial import OK, Candidate, TrialResult
from .selection import PER_SERIES_BEST, per_series_best

Member = tuple[int, str, dict[str, Any]]  # (iteration, model, hyperparameters)


def _combined(kind: str | None, results: list[TrialResult], weights: Sequence[float], target,
              metric: str) -> TrialResult:
    if kind is None:
        return results[0]
    iteration = max(r.iteration for r in results) + 1
    if kind == VOTING:
        oof = sum(w * r.oof.astype(np.float64) for r, w in zip(results, weights))
        spec = EnsembleSpec(VOTING, tuple(r.iteration for r in results), tuple(r.model for r in results), tuple(weights))
        return _result(iteration, VOTING, spec, np.asarray(oof), target, metric, time.time(), 0.0)
    if kind == PER_SERIES_BEST:
        entry = per_series_best(results, target, metric, iteration, lambda r: 0.0, None, 1)
        if entry is None:
            raise DataError("Every series chose the same model on these data: run that model alone.")
        return entry
    raise ValueError(f"unknown combination {kind!r}")


def reproduce(spark, config: AutoMLConfig, members: Sequence[Member], kind: str | None = None,
              weights: Sequence[float] = (), say=print):
    """(validation score, the refit ForecastingModel, the combined TrialResult) for members combined as
    `kind` (None: one model; 'VotingEnsemble' with weights; 'PerSeriesBest')."""
    from ..tasks.forecasting import ForecastingTask

    task = ForecastingTask()
    problem = task.prepare(spark, config, task.check(spark, config), say)
    evaluator = problem.state
    results = []
    for iteration, model, params in members:
        result = evaluator.evaluate(Candidate(iteration, model, dict(params), "generated"))
        if result.status != OK:
            raise DataError(f"{model} (iteration {iteration}) failed on these data: {result.error}")
        results.append(result)
    combined = _combined(kind, results, weights, problem.target, config.metric)
    model = task.fit_final(problem, combined, results, config, {})
    return combined.score, model, combined
