"""Caruana ensemble selection over the trials' validation / out-of-fold predictions.

Pure numpy on predictions the trials already returned: no model is refit to choose
the ensemble, so selection costs seconds, not trials.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..metrics import ValidationTarget
from ..search.trial import OK, TrialResult

SEED_WITHIN = 0.05  # seed with top models scoring within 5% of the best
MAX_SEED = 5
MAX_LIBRARY = 30  # candidates considered per greedy step: the best trials only


@dataclass(frozen=True)
class Selection:
    """The chosen blend: member iterations with weights (times picked / total picks)."""

    iterations: tuple[int, ...]
    weights: tuple[float, ...]
    loss: float
    steps: int

    def blend(self, by_iteration: dict[int, np.ndarray]) -> np.ndarray:
        return sum(w * by_iteration[i].astype(np.float64) for i, w in zip(self.iterations, self.weights))


def _within(score: float, best: float) -> bool:
    return abs(score - best) <= SEED_WITHIN * abs(best) if best != 0 else score == best


def library(results: list[TrialResult]) -> list[TrialResult]:
    """Successful trials with predictions, best first (ties by iteration: deterministic)."""
    ok = [r for r in results if r.status == OK and r.oof is not None and np.isfinite(r.loss)]
    return sorted(ok, key=lambda r: (r.loss, r.iteration))[:MAX_LIBRARY]


def caruana(results: list[TrialResult], target: ValidationTarget, metric: str, iterations: int) -> Selection | None:
    """Greedy forward selection with replacement, as Azure's VotingEnsemble.

    Seeded with up to min(5, iterations // 2) top models within 5% of the best; each step adds
    the model that most improves the blend (ties go to the better single model, which comes
    first in the library); the best blend seen wins, and the best single model alone is one of
    the blends considered, so the ensemble never scores below it. None with < 2 candidates.
    """
    lib = library(results)
    if len(lib) < 2:
        return None
    preds = [target.take(r.oof).astype(np.float64) for r in lib]

    def loss_of(prediction: np.ndarray) -> float:
        return target.loss(metric, prediction)

    best_score = lib[0].score
    n_seed = max(1, min(MAX_SEED, iterations // 2))
    seeds = [i for i in range(min(n_seed, len(lib))) if _within(lib[i].score, best_score)]
    counts: Counter[int] = Counter(seeds)
    total = sum(preds[i] for i in seeds)
    picks = len(seeds)
    history = [(lib[0].loss, Counter({0: 1})), (loss_of(total / picks), counts.copy())]
    for _ in range(iterations):
        step_losses = [loss_of((total + p) / (picks + 1)) for p in preds]
        choice = int(np.argmin(step_losses))  # first minimum = the better single model on ties
        counts[choice] += 1
        total = total + preds[choice]
        picks += 1
        history.append((step_losses[choice], counts.copy()))
    best_loss, best_counts = min(history, key=lambda h: h[0])  # min() keeps the earliest on ties
    members = sorted(best_counts)
    n = sum(best_counts.values())
    return Selection(tuple(lib[i].iteration for i in members), tuple(best_counts[i] / n for i in members),
                     best_loss, iterations)
