"""Per-series model selection (Azure's many-models idea inside one run): each series is forecast by the
candidate that forecast it best on validation, where that wins over one model for the whole panel.

Whether it wins is measured honestly: a series' choice for one rolling origin is made on its errors at the
other origins only (nested), so the leaderboard entry's validation forecasts never chose themselves. It
then competes with the single models and the VotingEnsemble on the primary metric like any other entry;
the final assignment uses every origin.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

from ..budget import parallel_seconds
from ..ensemble.build import EnsembleSpec, _result
from ..search.trial import OK, TrialResult
from .settings import SERIES_ID, TARGET

PER_SERIES_BEST = "PerSeriesBest"
ASSIGNMENT = "series_assignment"  # TrialResult.details key: series id -> the iteration that forecasts it
CANDIDATES = "candidates"  # TrialResult.details key: the iterations the series chose among
MAX_CANDIDATES = 5  # the best single models by validation; more choices per series overfit its few points


def _errors(folds, results: list[TrialResult]) -> pd.DataFrame:
    """|error| of every candidate on every scored row, with the row's series and origin."""
    scored = folds.all_scored
    actual = scored[TARGET].to_numpy(np.float64)
    frame = pd.DataFrame({r.iteration: np.abs(actual - r.oof.astype(np.float64)) for r in results})
    frame[SERIES_ID] = scored[SERIES_ID].to_numpy()
    frame["_origin"] = folds.origin_of_rows
    return frame


def _argmin(sums: pd.DataFrame, counts: pd.Series, candidates: list[int]) -> np.ndarray:
    """Per row of `sums`: the candidate with the lowest mean error; the first (the best overall) on ties or
    when there is nothing to choose on."""
    means = sums[candidates].to_numpy(np.float64) / np.maximum(counts.to_numpy(np.float64), 1.0)[:, None]
    means = np.where(np.isfinite(means), means, np.inf)
    means[counts.to_numpy() == 0] = 0.0  # no evidence: every column ties, the best overall wins
    return np.asarray(candidates)[np.argmin(means, axis=1)]


def assignments(folds, results: list[TrialResult]) -> tuple[np.ndarray, dict[str, int]]:
    """(the nested per-row choice, the final series -> iteration choice) among `results` (best first)."""
    candidates = [r.iteration for r in results]
    errors = _errors(folds, results)
    per_origin = errors.groupby([SERIES_ID, "_origin"], sort=False)[candidates].agg(["sum", "count"])
    sums = per_origin.xs("sum", axis=1, level=1)
    counts = per_origin.xs("count", axis=1, level=1)[candidates[0]]
    series_sums = sums.groupby(level=0).transform("sum")
    series_counts = counts.groupby(level=0).transform("sum")
    nested = _argmin(series_sums - sums, series_counts - counts, candidates)  # the other origins only
    chosen = pd.Series(nested, index=sums.index)
    keys = pd.MultiIndex.from_arrays([errors[SERIES_ID], errors["_origin"]])
    per_row = chosen.reindex(keys).to_numpy()
    totals = sums.groupby(level=0).sum()
    final = _argmin(totals, counts.groupby(level=0).sum().reindex(totals.index), candidates)
    return per_row, dict(zip(totals.index.astype(str), (int(i) for i in final)))


def per_series_best(results: list[TrialResult], target, metric: str, iteration: int,
                    refit_cost: Callable[[TrialResult], float], time_left: float | None, workers: int,
                    say=lambda msg: None) -> TrialResult | None:
    """The PerSeriesBest leaderboard entry over the best single models, or None when there is nothing to
    choose between (one series, one origin, one model) or every series would pick the same model."""
    folds = target.folds
    started = time.time()
    single = sorted((r for r in results if r.ensemble is None and r.status == OK and r.oof is not None
                     and np.isfinite(r.loss) and np.isfinite(r.oof).all()), key=lambda r: (r.loss, r.iteration))
    if time_left is not None:
        single = [r for r in single if refit_cost(r) <= time_left]
    single = single[:MAX_CANDIDATES]
    if len(single) < 2 or len(folds.scored) < 2 or folds.all_scored[SERIES_ID].nunique() < 2:
        return None
    per_row, final = assignments(folds, single)
    used = [r for r in single if r.iteration in set(final.values())]
    if len(used) < 2:
        return None
    if time_left is not None and parallel_seconds([refit_cost(r) for r in used], workers) > time_left:
        say(f"{PER_SERIES_BEST} skipped: refitting its {len(used)} models would overrun the budget")
        return None
    by_iteration = {r.iteration: r for r in single}
    oof = np.empty(len(per_row), dtype=np.float64)
    for i in np.unique(per_row):
        rows = per_row == i
        oof[rows] = by_iteration[int(i)].oof[rows]
    spec = EnsembleSpec(PER_SERIES_BEST, tuple(r.iteration for r in used), tuple(r.model for r in used))
    result = _result(iteration, PER_SERIES_BEST, spec, oof, target, metric, started,
                     sum(r.fit_seconds for r in used))
    result.details[ASSIGNMENT] = final
    result.details[CANDIDATES] = [r.iteration for r in single]  # what the nested choice chose among
    result.params["series_per_model"] = {r.model + f" ({r.iteration})": sum(v == r.iteration for v in final.values())
                                         for r in used}
    return result
