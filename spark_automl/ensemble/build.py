"""After the search: VotingEnsemble and StackEnsemble as two more leaderboard entries.

Each becomes a TrialResult (model 'VotingEnsemble' / 'StackEnsemble', Azure's property
names as params) so it is logged, ranked and returned exactly like a trial.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import AutoMLConfig
from ..data.prepare import SearchData
from ..metrics import compute_metrics, to_loss
from ..search.trial import OK, FAILED, TrialResult, fit_many, scored_rows
from .estimators import StackEnsembleEstimator, VotingEnsembleEstimator
from .selection import MAX_SEED, caruana, library
from .stacking import cross_validated_stack, holdout_rows, holdout_stack

VOTING, STACK = "VotingEnsemble", "StackEnsemble"


@dataclass
class EnsembleSpec:
    kind: str
    iterations: tuple[int, ...]
    names: tuple[str, ...]
    weights: tuple[float, ...] = ()
    meta_learner_name: str = ""
    meta_learner: Any = None  # fitted; the members are refit on all rows, the meta-learner is kept


def ensemble_params(spec: EnsembleSpec) -> dict[str, Any]:
    """Azure's property names for an ensemble child run."""
    params: dict[str, Any] = {"ensembled_iterations": list(spec.iterations),
                              "ensembled_algorithms": list(spec.names)}
    if spec.weights:
        params["ensemble_weights"] = [round(w, 6) for w in spec.weights]
    if spec.meta_learner_name:
        params["meta_learner"] = spec.meta_learner_name
    return params


def _result(iteration: int, kind: str, spec: EnsembleSpec, oof: np.ndarray, data: SearchData, metric: str,
            started: float, fit_seconds: float) -> TrialResult:
    rows = scored_rows(data)
    weight = data.weight[rows] if data.weight is not None else None
    metrics = compute_metrics(data.task, data.y[rows], oof[rows], classes=data.classes, sample_weight=weight,
                              positive_label=data.positive_label, y_range=data.y_range)
    params = ensemble_params(spec)
    score = metrics.get(metric, float("nan"))
    loss = to_loss(metric, score)
    return TrialResult(iteration, kind, params, "ensemble", OK if np.isfinite(loss) else FAILED, metrics, loss, metric,
                       score, oof.astype(np.float32), fit_seconds, 0.0, time.time() - started,
                       "" if np.isfinite(loss) else f"{metric} is not finite", started, spec)


def voting_ensemble(results: list[TrialResult], data: SearchData, config: AutoMLConfig,
                    iteration: int) -> TrialResult | None:
    started = time.time()
    chosen = caruana(results, data, config.metric, config.ensemble_steps)
    if chosen is None:
        return None
    by_iteration = {r.iteration: r for r in results}
    spec = EnsembleSpec(VOTING, chosen.iterations, tuple(by_iteration[i].model for i in chosen.iterations),
                        chosen.weights)
    oof = chosen.blend({i: by_iteration[i].oof for i in chosen.iterations})
    fit_seconds = sum(by_iteration[i].fit_seconds for i in chosen.iterations)
    return _result(iteration, VOTING, spec, oof, data, config.metric, started, fit_seconds)


def stack_ensemble(voting: TrialResult, results: list[TrialResult], data: SearchData, config: AutoMLConfig,
                   iteration: int, workers: int) -> TrialResult | None:
    """First layer = the voting ensemble's members; when voting kept one model alone, the top
    library models (a meta-learner over one input learns nothing)."""
    started = time.time()
    members = voting.ensemble.iterations
    if len(members) < 2:
        members = tuple(r.iteration for r in library(results)[:MAX_SEED])
    by_iteration = {r.iteration: r for r in results}
    name, kwargs = config.meta_learner, config.stack_meta_learner_kwargs
    spec = EnsembleSpec(STACK, members, tuple(by_iteration[i].model for i in members), meta_learner_name=name)
    if len(data.splits) > 1:
        spec.meta_learner, oof = cross_validated_stack([by_iteration[i].oof.astype(np.float64) for i in members],
                                                       data, name, kwargs, config.seed)
    else:
        member_rows, meta_rows = holdout_rows(data.splits[0][0], config.stack_meta_learner_train_percentage,
                                              config.seed)
        fitted = fit_many(data, [by_iteration[i] for i in members], member_rows, config.seed,
                          config.cores_per_trial, workers)
        spec.meta_learner, oof = holdout_stack([fitted[i] for i in members], data, meta_rows, name, kwargs,
                                               config.seed)
    fit_seconds = time.time() - started
    return _result(iteration, STACK, spec, oof, data, config.metric, started, fit_seconds)


REFIT_SAFETY = 1.3  # a fit on all rows vs on one fold's training part


def refit_seconds(result: TrialResult, n_splits: int) -> float:
    """Expected time to refit a trial's model on every training row."""
    return REFIT_SAFETY * result.fit_seconds / max(n_splits, 1)


def parallel_seconds(costs: list[float], workers: int) -> float:
    """Wall time of independent fits run `workers` at a time: never less than the longest one."""
    return max(max(costs, default=0.0), sum(costs) / max(workers, 1))


def affordable(results: list[TrialResult], n_splits: int, seconds: float | None) -> list[TrialResult]:
    """Trials whose refit fits in the time left: an ensemble member must be refit before the
    budget ends, so a slow model the search found late is left out rather than overrun."""
    if seconds is None:
        return results
    return [r for r in results if r.ensemble is None and refit_seconds(r, n_splits) <= seconds]


def build_ensembles(results: list[TrialResult], data: SearchData, config: AutoMLConfig, workers: int,
                    say=lambda msg: None, time_left: float | None = None) -> list[TrialResult]:
    """The ensembles the config asks for, numbered after the last trial.

    time_left: seconds until the budget ends, net of logging. Members are chosen among the
    trials whose refit fits in it; the stack is skipped when its extra member fits (holdout) do
    not fit beside the voting members' refit."""
    out: list[TrialResult] = []
    if not config.enable_voting_ensemble and not config.stack_enabled:
        return out
    n_splits = len(data.splits)
    next_iteration = max((r.iteration for r in results), default=-1) + 1
    candidates = affordable(results, n_splits, time_left)
    voting = voting_ensemble(candidates, data, config, next_iteration)
    if voting is None:
        say("Ensembles skipped: fewer than two successful trials" + (" that can be refit in the time left"
                                                                      if time_left is not None else ""))
        return out
    by_iteration = {r.iteration: r for r in results}
    members_refit = parallel_seconds([refit_seconds(by_iteration[i], n_splits) for i in voting.ensemble.iterations],
                                     workers)
    if time_left is not None and members_refit > time_left:
        say(f"VotingEnsemble skipped: refitting its members (~{members_refit:.0f}s) would overrun the budget")
        return out
    if config.enable_voting_ensemble:
        out.append(voting)
        next_iteration += 1
    stack_extra = members_refit if n_splits == 1 else 0.0  # holdout: members fit once more on a share
    if config.stack_enabled and time_left is not None and members_refit + stack_extra > time_left:
        say("StackEnsemble skipped: its member fits would overrun the budget")
    elif config.stack_enabled:
        try:
            stack = stack_ensemble(voting, candidates, data, config, next_iteration, workers)
        except Exception as err:  # noqa: BLE001 - a failed stack must not lose the experiment
            say(f"StackEnsemble failed: {type(err).__name__}: {err}")
            stack = None
        if stack is not None:
            out.append(stack)
    return out


def member_results(result: TrialResult, results: list[TrialResult]) -> list[TrialResult]:
    """The trials an ensemble result needs fitted (the result itself for a single model)."""
    if result.ensemble is None:
        return [result]
    by_iteration = {r.iteration: r for r in results}
    return [by_iteration[i] for i in result.ensemble.iterations]


def assemble(result: TrialResult, fitted: dict[int, Any], data: SearchData):
    """The fitted estimator for `result` from its fitted members."""
    spec = result.ensemble
    if spec is None:
        return fitted[result.iteration]
    members = [fitted[i] for i in spec.iterations]
    if spec.kind == VOTING:
        return VotingEnsembleEstimator(members, list(spec.names), list(spec.weights), data.task,
                                       data.classes).fit()
    return StackEnsembleEstimator(members, list(spec.names), spec.meta_learner, spec.meta_learner_name, data.task,
                                  data.classes).fit()
