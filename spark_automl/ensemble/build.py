"""After the search: VotingEnsemble and StackEnsemble as two more leaderboard entries.

Each becomes a TrialResult (model 'VotingEnsemble' / 'StackEnsemble', Azure's property
names as params) so it is logged, ranked and returned exactly like a trial.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from typing import Callable

from ..budget import parallel_seconds
from ..config import AutoMLConfig
from ..data.prepare import SearchData
from ..metrics import ValidationTarget, to_loss
from ..search.trial import OK, FAILED, TrialResult, fit_many
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


def _result(iteration: int, kind: str, spec: EnsembleSpec, oof: np.ndarray, target: ValidationTarget, metric: str,
            started: float, fit_seconds: float) -> TrialResult:
    metrics = target.score(oof, also=(metric,))
    params = ensemble_params(spec)
    score = metrics.get(metric, float("nan"))
    loss = to_loss(metric, score)
    return TrialResult(iteration, kind, params, "ensemble", OK if np.isfinite(loss) else FAILED, metrics, loss, metric,
                       score, oof.astype(np.float32), fit_seconds, 0.0, time.time() - started,
                       "" if np.isfinite(loss) else f"{metric} is not finite", started, spec)


def voting_ensemble(results: list[TrialResult], target: ValidationTarget, config: AutoMLConfig,
                    iteration: int) -> TrialResult | None:
    started = time.time()
    chosen = caruana(results, target, config.metric, config.ensemble_steps)
    if chosen is None:
        return None
    by_iteration = {r.iteration: r for r in results}
    spec = EnsembleSpec(VOTING, chosen.iterations, tuple(by_iteration[i].model for i in chosen.iterations),
                        chosen.weights)
    oof = chosen.blend({i: by_iteration[i].oof for i in chosen.iterations})
    fit_seconds = sum(by_iteration[i].fit_seconds for i in chosen.iterations)
    return _result(iteration, VOTING, spec, oof, target, config.metric, started, fit_seconds)


def stack_ensemble(voting: TrialResult, results: list[TrialResult], data: SearchData, config: AutoMLConfig,
                   iteration: int, workers: int) -> TrialResult | None:
    """A meta-learner over the first layer of `stack_members`."""
    started = time.time()
    members = stack_members(voting, results)
    by_iteration = {r.iteration: r for r in results}
    name, kwargs = config.meta_learner_for(len(data.splits) > 1), config.stack_meta_learner_kwargs
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
    return _result(iteration, STACK, spec, oof, data.target, config.metric, started, fit_seconds)


def stack_members(voting: TrialResult, results: list[TrialResult]) -> tuple[int, ...]:
    """First layer = the voting ensemble's members; when voting kept one model alone, the top
    library models (a meta-learner over one input learns nothing)."""
    voting_members = voting.ensemble.iterations
    return voting_members if len(voting_members) >= 2 else tuple(r.iteration for r in library(results)[:MAX_SEED])


def likely_members(results: list[TrialResult], target: ValidationTarget, config: AutoMLConfig) -> tuple[int, ...]:
    """The trials the ensembles would refit if the search ended now: the voting selection's members, which
    are also the stack's first layer. What the finish reserve prices while the search runs (the best eight
    overprice a selection that keeps one forest: mammography ended 18% early). () without a selection.

    When the selection keeps one model alone, the stack's first layer would be the top library models
    instead; they are not priced: a meta-learner over models no blend could improve on seldom wins
    (mammography: 0.9559 against the single forest's 0.9622), and pricing its five forests ended that
    search 20% early. Such a stack is built only when the time left covers it (build_ensembles)."""
    chosen = caruana(results, target, config.metric, config.ensemble_steps)
    if chosen is None:
        return ()
    return tuple(sorted(chosen.iterations))


# When the chosen members' refit does not fit in the time left, the costliest member leaves the candidates
# and the selection runs again, at most this many times, rather than the run losing its ensemble (diamonds:
# a 26 s refit in 23 s left skipped the VotingEnsemble that had scored 0.9829 r2 against the single 0.9818).
MAX_ENSEMBLE_TRIMS = 10

RefitCost = Callable[[TrialResult], float]
StackBuilder = Callable[[TrialResult, list[TrialResult], int], "TrialResult | None"]


def build_ensembles(results: list[TrialResult], target: ValidationTarget, config: AutoMLConfig,
                    refit_cost: RefitCost, say=lambda msg: None, time_left: float | None = None,
                    stack: StackBuilder | None = None, holdout: bool = False,
                    logging_cost: RefitCost | None = None) -> list[TrialResult]:
    """The ensembles the config asks for, numbered after the last trial.

    refit_cost: the task's estimate of one member's refit on all rows; logging_cost: of saving it
    with the model (one after another; a forest of a GB takes tens of seconds). time_left: seconds
    until the budget ends, net of the fixed finish (logging, the requested artifacts). Members are
    chosen among the trials whose refit and logging fit in it. stack: the task's StackEnsemble builder (tabular only); skipped when
    its extra member fits (a holdout split fits the members once more) do not fit beside the voting
    members' refit."""
    out: list[TrialResult] = []
    stack_wanted = stack is not None and config.stack_enabled
    if not config.enable_voting_ensemble and not stack_wanted:
        return out
    workers = config.max_concurrent_iterations
    next_iteration = max((r.iteration for r in results), default=-1) + 1
    logged = logging_cost or (lambda r: 0.0)
    candidates = [r for r in results if r.ensemble is None
                  and (time_left is None or refit_cost(r) + logged(r) <= time_left)]
    by_iteration = {r.iteration: r for r in results}

    def refit_of(iterations) -> float:
        members = [by_iteration[i] for i in iterations]
        return parallel_seconds([refit_cost(m) for m in members], workers) + sum(logged(m) for m in members)

    voting = voting_ensemble(candidates, target, config, next_iteration)
    for _ in range(MAX_ENSEMBLE_TRIMS):
        if voting is None or time_left is None:
            break
        needed = refit_of(voting.ensemble.iterations)
        if needed <= time_left:
            break
        costliest = max(voting.ensemble.iterations, key=lambda i: (refit_cost(by_iteration[i])
                                                                   + logged(by_iteration[i]), i))
        say(f"VotingEnsemble: refitting and logging its members (~{needed:.0f}s) would overrun the budget; "
            f"selecting again without iteration {costliest} ({by_iteration[costliest].model})")
        candidates = [r for r in candidates if r.iteration != costliest]
        voting = voting_ensemble(candidates, target, config, next_iteration)
    if voting is None:
        say("Ensembles skipped: fewer than two successful trials" + (" that can be refit in the time left"
                                                                      if time_left is not None else ""))
        return out
    members_refit = refit_of(voting.ensemble.iterations)
    if time_left is not None and members_refit > time_left:
        say(f"VotingEnsemble skipped: refitting and logging its members (~{members_refit:.0f}s) would overrun "
            "the budget")
        return out
    if config.enable_voting_ensemble:
        out.append(voting)
        next_iteration += 1
    if not stack_wanted:
        return out
    members = stack_members(voting, candidates)
    stack_refit = refit_of(members)
    # a holdout stack fits its members once more, on part of the rows
    stack_extra = parallel_seconds([refit_cost(by_iteration[i]) for i in members], workers) if holdout else 0.0
    if time_left is not None and stack_refit + stack_extra > time_left:
        say(f"StackEnsemble skipped: fitting and logging its members (~{stack_refit + stack_extra:.0f}s) would "
            "overrun the budget")
        return out
    try:
        stacked = stack(voting, candidates, next_iteration)
    except Exception as err:  # noqa: BLE001 - a failed stack must not lose the experiment
        say(f"StackEnsemble failed: {type(err).__name__}: {err}")
        stacked = None
    if stacked is not None:
        out.append(stacked)
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
