"""The zero-shot portfolio: configurations learned offline over many public datasets and shipped as
data (portfolio.json), tried before TPE (the idea behind FLAML's zero-shot defaults and AutoGluon's
presets). benchmarks/learn_portfolio.py scores every candidate configuration on every dataset and
calls `select`; benchmarks/README.md documents the datasets and the procedure.

Selection is greedy, as auto-sklearn 2.0 builds its portfolio: a configuration's regret on a dataset
is how far it falls from that dataset's best, scaled so the dataset's median configuration scores 1;
each step adds the configuration that most lowers the mean over datasets of the best regret in the
portfolio so far. The chosen entries ship cheapest first (LightGBM's defaults always first); the
sweeper runs every model's first entry before any model's second.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

PORTFOLIO_FILE = Path(__file__).with_name("portfolio.json")


def regrets(scores: np.ndarray) -> np.ndarray:
    """scores[config, dataset], higher is better, NaN where the configuration failed -> regret in
    [0, 1]: 0 at the dataset's best, 1 at or below the dataset's median configuration (and on failure)."""
    scores = np.asarray(scores, dtype=float)
    out = np.ones_like(scores)
    for d in range(scores.shape[1]):
        column = scores[:, d]
        ok = np.isfinite(column)
        if not ok.any():
            continue
        best, median = np.max(column[ok]), np.median(column[ok])
        spread = best - median
        if spread > 0:
            out[ok, d] = np.clip((best - column[ok]) / spread, 0.0, 1.0)
        else:  # half or more of the configurations tie for best: the rest are below the median
            out[ok, d] = np.where(column[ok] >= best, 0.0, 1.0)
    return out


def select(scores: np.ndarray, k: int, first: int | Sequence[int] | None = None,
           costs: Sequence[float] | None = None, min_gain: float | None = None) -> list[int]:
    """Greedy portfolio of at most k configuration indices (rows of scores[config, dataset]).

    first: the index (or indices) every portfolio starts with (LightGBM's defaults; the hand-written
    defaults). costs: per-configuration relative cost; among equal gains the cheaper wins. min_gain:
    stop once no configuration lowers the mean best regret by that much (None: fill all k places,
    which generalises better to unseen datasets than stopping once the seen ones are covered)."""
    regret = regrets(scores)
    n = regret.shape[0]
    cost = np.zeros(n) if costs is None else np.asarray(costs, dtype=float)
    chosen: list[int] = [] if first is None else [int(first)] if np.isscalar(first) else [int(i) for i in first]
    best = regret[chosen].min(axis=0) if chosen else np.ones(regret.shape[1])
    while len(chosen) < min(k, n):
        current = best.mean()
        means = np.minimum(regret, best).mean(axis=1)
        means[chosen] = np.inf
        order = np.lexsort((cost, means))
        pick = int(order[0])
        if min_gain is not None and chosen and current - means[pick] < min_gain:
            break
        chosen.append(pick)
        best = np.minimum(best, regret[pick])
    return chosen


def mean_best_regret(scores: np.ndarray, members: Sequence[int]) -> np.ndarray:
    """Per dataset, the regret of the best member: what a portfolio leaves on the table."""
    return regrets(scores)[list(members)].min(axis=0)


def leave_one_out(scores: np.ndarray, k: int, first: int | Sequence[int] | None = None, costs=None) -> np.ndarray:
    """Each dataset's regret under the portfolio learned without it: how the portfolio generalises."""
    n_data = scores.shape[1]
    full = regrets(scores)
    out = np.empty(n_data)
    for d in range(n_data):
        others = [j for j in range(n_data) if j != d]
        members = select(scores[:, others], k, first, costs)
        out[d] = full[members, d].min()
    return out


@functools.lru_cache(maxsize=None)
def _shipped() -> dict[str, Any]:
    if not PORTFOLIO_FILE.exists():  # pragma: no cover - a broken install
        return {}
    return json.loads(PORTFOLIO_FILE.read_text())


def learned(task: str) -> list[tuple[str, dict[str, Any]]]:
    """The shipped portfolio for a tabular task, in run order ([] for a task it does not cover)."""
    entries = _shipped().get("tasks", {}).get(task, [])
    return [(e["model"], dict(e["params"])) for e in entries]
