"""Every time rule of an experiment, as pure functions over named constants.

The one rule: `experiment_timeout_minutes` covers everything from `submit()` to the
returned run: data preparation, the search, ensemble selection, the refit of the final
model, model logging and the artifacts the user asked for. The search therefore stops
early enough to leave a *reserve* for what comes after it:

- the refit of the likely final model on all rows (the best few trials when ensembles are
  on, since their members are refit, `max_concurrent_iterations` at a time);
- fixed seconds for ensemble selection and model logging, plus logging seconds that grow with the
  likely final model's size;
- fixed seconds for each artifact that was asked for (explanations, ONNX).

Artifacts the user asked for explicitly (`model_explainability=True`,
`enable_onnx_compatible_models=True`, test data) are part of the plan and are always made.
Optional ones (charts, generated code) are skipped with a note once the run is
`OPTIONAL_OVERRUN` past its budget. When the budget cannot cover one trial plus what was
asked, `check_budget` says so before any work, with the smallest budget that would.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Sequence

from .errors import ConfigError

# ---- the reserve kept after the search -----------------------------------------------
INITIAL_RESERVE_FRACTION = 0.1  # of the budget, before any trial has told us its cost
INITIAL_RESERVE_MAX_SECONDS = 20.0
MODEL_LOGGING_SECONDS = 5.0  # save + upload of the final model with signature and example
FORECAST_LOGGING_SECONDS = 8.0  # the forecaster's pyfunc, its example forecast and the chart
ENSEMBLE_SECONDS = 3.0  # Caruana selection + stack meta-learner + the ensemble child runs
EXPLAIN_SECONDS = 3.0  # SHAP / permutation importance on <= 1000 rows, plus its chart
# permutation importance predicts once per column at least; an ensemble's call (featurize + each member)
# took about 70 ms on ames_housing's 80 columns: the reserve grows with the columns explained
EXPLAIN_SECONDS_PER_COLUMN = 0.1
ONNX_SECONDS = 3.0  # conversion + onnxruntime check
# members a voting ensemble usually ends with: 8 to 10 on the benchmark sets at 120 s (wine_quality_white's
# nine held five 150-213 MB forests and two more forests beyond the best five)
ENSEMBLE_SIZE_ESTIMATE = 8
# while the search runs, the ensemble selection over the trials so far tells the reserve which members it would
# refit, chosen again at most this often: one selection scores ~450 blends (about a second on 4,000 rows x 7
# classes), on the driver, between trials
RESELECT_SECONDS = 10.0
REFIT_SAFETY = 1.3  # a fit on all rows vs a fit on one fold's training part
# Logging grows with the model: skops writes it once, reads it back and checks its predictions, then it is
# copied to the store (model_format.swap_in_skops: MLflow does not serialize it again). skops' time goes by
# objects: wine_quality_white's stack of six ExtraTrees (1,089 MB, 270,000 objects) took 26.9 s to save
# (54.7 s when MLflow dumped and loaded it a second time). A fold's model (TrialResult.model_bytes /
# model_objects) grows in bytes on all rows (REFIT_SAFETY), not in objects. Priced for a slower machine than
# that one: on a sitting that ran half as many trials, the same stack (five ExtraTrees, 910 MB, ~340,000
# objects) took 45.7 s and ended wine_quality_white 11% over its budget, where 0.01 s/MB and 6e-5 s/object
# said 29 s. Fits are timed on the machine that runs them; serialization is not, so it is priced high.
LOGGING_SECONDS_PER_MB = 0.015
LOGGING_SECONDS_PER_OBJECT = 9e-5

# ---- trials ---------------------------------------------------------------------------
TRIAL_GRACE_SECONDS = 2.0  # a trial may finish this long after the search deadline
STRAGGLER_PATIENCE_SECONDS = 5.0  # then the driver stops waiting for it
MIN_TRIAL_SECONDS = 5.0  # the least a trial plus preparation needs on a small data set
# the cost model's cap: once COST_MODEL_TRIALS trials succeeded, a trial may take COST_CAP_FACTOR times the
# median successful trial or COST_GROWTH times the slowest one, whichever is more (at least
# COST_CAP_MIN_SECONDS). Costs grow step by step, as in FLAML's cost-frugal search: a slow corner of the
# space (thousands of deep trees on wide data) cannot eat the budget a dozen ordinary trials would use
# before a cheaper neighbour has shown that growing pays; TPE learns such a trial failed.
COST_MODEL_TRIALS = 3
COST_CAP_FACTOR = 6.0
COST_GROWTH = 2.0
COST_CAP_MIN_SECONDS = 10.0
COST_CAP_REASON = "the cost model's cap ({seconds:.0f} s: trial costs grow at most {growth:g}x the slowest success)"

# ---- after the search -----------------------------------------------------------------
OPTIONAL_OVERRUN = 1.05  # optional artifacts stop once the run is 5% over its budget
EXPLAIN_MIN_SECONDS = 2.0  # a requested explanation always gets at least this long


def initial_reserve(timeout: float | None) -> float:
    """Seconds kept back before the first trial reports its cost."""
    return 0.0 if timeout is None else min(INITIAL_RESERVE_FRACTION * timeout, INITIAL_RESERVE_MAX_SECONDS)


def refit_seconds(fit_seconds: float, n_splits: int, row_scale: float = 1.0) -> float:
    """Expected time to refit a trial's model on every training row, from its CV fit time.

    row_scale: all rows / searched rows. Above 1 (large-data mode) the refit runs in Spark on
    all rows: the fit grows with the rows, plus a pass that featurizes them."""
    seconds = REFIT_SAFETY * fit_seconds / max(n_splits, 1)
    if row_scale <= 1.0:
        return seconds
    return seconds * row_scale + DISTRIBUTED_REFIT_SECONDS


DISTRIBUTED_REFIT_SECONDS = 30.0  # Spark jobs of a distributed refit: featurize, cache, count

# ---- bagged members ---------------------------------------------------------------------
# Under k-fold CV a member's final model may be its k fold models averaged (AutoGluon's bagging), each
# stopped early on its own fold as in the search: the model its out-of-fold predictions scored. It costs
# the search's fold fits again and k models to log and to score, so a member is bagged only while its
# k fold models stay small (TrialResult.model_bytes / model_objects are one fold's).
BAG_SAFETY = 1.1  # the fold fits once more, a little slower beside the other members
BAG_MAX_MB = 64.0  # k fold models in bytes
BAG_MAX_OBJECTS = 40_000  # k fold models in pickled objects (skops' logging time goes by objects)


def bag_affordable(model_bytes: int, model_objects: int, n_splits: int) -> bool:
    """Whether k fold models of this footprint are worth logging and scoring (see BAG_MAX_*)."""
    return (n_splits > 1 and n_splits * model_bytes <= BAG_MAX_MB * 2**20
            and n_splits * model_objects <= BAG_MAX_OBJECTS)


def bag_seconds(fit_seconds: float) -> float:
    """Expected time to fit a bag again from the trial's total fit time over its folds."""
    return BAG_SAFETY * fit_seconds


# Bags beyond the caps, in the time left: when the refit starts with more time than the finish needs (the
# search stopped early, or the reserve priced more members than the ensemble kept), members over the caps
# are bagged too, heaviest weight first, each while its extra cost fits SPARE_SHARE of the spare seconds.
SPARE_SHARE = 0.5
BAG_HARD_MAX_MB = 512.0  # never: k fold models this large (memory, disk, scoring time)


def spare_bags(options: Sequence[tuple[int, float]], spare: float) -> list[int]:
    """The members to bag in `spare` seconds: options are (iteration, extra seconds over its refit) in
    priority order; each is taken while its extra cost fits SPARE_SHARE of what is still spare."""
    chosen = []
    for iteration, extra in options:
        if extra <= SPARE_SHARE * spare:
            chosen.append(iteration)
            spare -= extra
    return chosen


def row_growth(n_splits: int) -> float:
    """How much a fold's model grows when refit on every training row: a full-depth forest's leaves grow
    with its rows, k/(k-1) under k-fold CV (1.5x at 3 folds); REFIT_SAFETY at least."""
    return max(REFIT_SAFETY, n_splits / (n_splits - 1)) if n_splits > 1 else REFIT_SAFETY


def logging_seconds(model_bytes: Sequence[float], model_objects: Sequence[float] = ()) -> float:
    """Seconds beyond MODEL_LOGGING_SECONDS to log a model made of members of these footprints, as logged
    (`refit_footprint` / `bag_footprint` of one fold's)."""
    return (LOGGING_SECONDS_PER_MB * sum(model_bytes) / 2**20
            + LOGGING_SECONDS_PER_OBJECT * sum(model_objects))


def members_seconds(members: Sequence, refit_cost, footprint, workers: int) -> tuple[float, float]:
    """(refit, logging beyond the fixed seconds) of a final model made of these members: refit `workers` at a
    time, logged one after another by footprint. What the reserve prices and what a run reports it priced."""
    sizes = [footprint(r) for r in members]
    return (parallel_seconds([refit_cost(r) for r in members], workers),
            logging_seconds([b for b, _ in sizes], [o for _, o in sizes]))


def model_logging_seconds(forecasting: bool = False) -> float:
    """The fixed part of logging the final model."""
    return FORECAST_LOGGING_SECONDS if forecasting else MODEL_LOGGING_SECONDS


def parallel_seconds(costs: Sequence[float], workers: int) -> float:
    """Wall time of independent fits run `workers` at a time: never less than the longest one."""
    return max(max(costs, default=0.0), sum(costs) / max(workers, 1))


def fixed_finish_seconds(*, ensembles: bool, explain: bool, onnx: bool, forecasting: bool = False,
                         explained_columns: int = 0) -> float:
    """The part of the reserve that does not depend on the trials; explained_columns: the columns an
    explanation permutes (its cost grows with them)."""
    seconds = model_logging_seconds(forecasting)
    seconds += ENSEMBLE_SECONDS if ensembles else 0.0
    seconds += EXPLAIN_SECONDS + EXPLAIN_SECONDS_PER_COLUMN * explained_columns if explain else 0.0
    seconds += ONNX_SECONDS if onnx else 0.0
    return seconds


def cost_cap(durations: Sequence[float]) -> float | None:
    """The cost model's per-trial cap from the successful trials' durations (None until it has enough)."""
    if len(durations) < COST_MODEL_TRIALS:
        return None
    return max(COST_CAP_MIN_SECONDS, COST_CAP_FACTOR * statistics.median(durations), COST_GROWTH * max(durations))


def trial_limit(trial_timeout: float | None, deadline: float | None,
                now: float | None = None, cap: float | None = None) -> tuple[float | None, str]:
    """A trial may not outlive the experiment: the smallest of iteration_timeout_minutes, the
    cost model's cap and the time left before the search deadline. Returns (seconds, which limit)
    so an error names it. Pure, so Spark tasks apply the same rule as the driver."""
    caps = []
    if trial_timeout is not None:
        caps.append((trial_timeout, "iteration_timeout_minutes"))
    if cap is not None:
        caps.append((cap, COST_CAP_REASON.format(growth=COST_GROWTH, seconds=cap)))
    if deadline is not None:
        left = max(deadline - (time.time() if now is None else now), 0.0) + TRIAL_GRACE_SECONDS
        caps.append((left, "experiment_timeout_minutes (the experiment's remaining budget)"))
    return min(caps) if caps else (None, "")


def optional_deadline(started: float, timeout: float | None) -> float | None:
    """When optional artifacts stop being made."""
    return None if timeout is None else started + OPTIONAL_OVERRUN * timeout


def minimum_budget_seconds(*, explain: bool, onnx: bool, forecasting: bool = False) -> float:
    """The smallest budget that covers one trial, logging the model and what was asked for."""
    return MIN_TRIAL_SECONDS + fixed_finish_seconds(ensembles=False, explain=explain, onnx=onnx,
                                                    forecasting=forecasting)


def check_budget(timeout: float | None, *, explain: bool, onnx: bool, forecasting: bool = False) -> None:
    """Refuse, before any work, a budget that cannot cover one trial plus the requested artifacts."""
    if timeout is None:
        return
    needed = minimum_budget_seconds(explain=explain, onnx=onnx, forecasting=forecasting)
    if timeout < needed:
        asked = [name for name, on in (("model_explainability", explain), ("enable_onnx_compatible_models", onnx))
                 if on]
        raise ConfigError(
            f"experiment_timeout_minutes={timeout / 60:.3g} ({timeout:.0f} s) cannot cover one trial, the model "
            f"logging{' and ' + ', '.join(asked) if asked else ''}. Give at least "
            f"experiment_timeout_minutes={needed / 60:.2f}.")


@dataclass
class FinishReserve:
    """Seconds kept at the end of the budget for everything after the search.

    Called with each successful trial; tracks the best few (the likely ensemble members),
    whose refit on all rows, `workers` at a time, is the bulk of the cost.
    `refit_cost(result)` is the task's estimate for one member (a statistical forecaster
    refits nothing)."""

    n_splits: int
    workers: int
    ensembles: bool
    fixed_seconds: float
    refit_cost: object = None  # Callable[[TrialResult], float]; default: refit_seconds from fit time
    # Callable[[TrialResult], (bytes, objects)] of the member as logged; default: one refit on all rows
    footprint: object = None
    # Callable[[list[TrialResult]], tuple[int, ...]]: the members the ensembles would refit now (the task's
    # likely_members); () or None: the best ENSEMBLE_SIZE_ESTIMATE trials are priced
    select: object = None
    top: list = field(default_factory=list)
    seen: list = field(default_factory=list)
    chosen: tuple = ()
    selected_at: float = -math.inf

    def __call__(self, result) -> float:
        self.top = sorted([*self.top, result], key=lambda r: (r.loss, r.iteration))[:ENSEMBLE_SIZE_ESTIMATE]
        members = self.top if self.ensembles else self.top[:1]
        if self.ensembles and self.select is not None:
            members = self._selected(result) or members
        cost = self.refit_cost or (lambda r: refit_seconds(r.fit_seconds, self.n_splits))
        size = self.footprint or (lambda r: refit_footprint(r.model_bytes, r.model_objects, self.n_splits))
        refit, logging = members_seconds(members, cost, size, self.workers)
        return refit + self.fixed_seconds + logging

    def _selected(self, result) -> list:
        """The selection's members, chosen again at most every RESELECT_SECONDS (it scores hundreds of
        blends on the driver); a new best trial in between is priced too, it would join."""
        self.seen.append(result)
        now = time.monotonic()
        if now - self.selected_at >= RESELECT_SECONDS:
            self.chosen, self.selected_at = tuple(self.select(self.seen) or ()), now
        if not self.chosen:
            return []
        by_iteration = {r.iteration: r for r in self.seen}
        members = [by_iteration[i] for i in self.chosen if i in by_iteration]
        if result.iteration not in self.chosen and result is self.top[0]:
            members.append(result)
        return members


def refit_footprint(model_bytes: int, model_objects: int, n_splits: int) -> tuple[float, float]:
    """(bytes, objects) of a member refit on every row, from one fold's: bytes grow with the rows."""
    return row_growth(n_splits) * model_bytes, float(model_objects)


def bag_footprint(model_bytes: int, model_objects: int, n_splits: int) -> tuple[float, float]:
    """(bytes, objects) of a member's k fold models."""
    return float(n_splits * model_bytes), float(n_splits * model_objects)
