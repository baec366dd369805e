"""One experiment, end to end: prepare data, search, refit the winner, log it.

Kept apart from experiment.py (the user-facing object) so the flow reads top to
bottom in one place without a god class.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from sklearn.pipeline import Pipeline

from .config import AutoMLConfig
from .data.guardrails import Guardrail
from .ensemble.build import assemble, member_results
from .data.prepare import PreparedData
from .errors import ConfigError, NoTrialSucceededError
from .models import REGISTRY
from .progress import Progress
from .search.backends import BACKENDS, TrialContext, choose_backend
from .search.stopping import Stopper
from .search.sweeper import Sweeper
from .search.trial import OK, TrialResult, fit_many

log = logging.getLogger(__name__)


@dataclass
class SearchOutcome:
    results: list[TrialResult]
    stop_reason: str
    backend: str
    search_seconds: float
    skipped_models: dict[str, str] = field(default_factory=dict)


def eligible_specs(config: AutoMLConfig, n_rows: int, has_weights: bool) -> tuple[list, dict[str, str]]:
    """Registry specs the search may use, with the reason each excluded model was skipped."""
    specs, skipped = [], {}
    explicit = set(config.allowed_models or [])
    for name in config.candidate_models():
        spec = REGISTRY.get(name, config.task)
        if has_weights and not spec.supports_weights:
            skipped[name] = "does not support sample weights"
        elif spec.max_rows is not None and n_rows > spec.max_rows and name not in explicit:
            skipped[name] = f"too slow above {spec.max_rows} rows (allow it explicitly to force it)"
        elif config.enable_onnx_compatible_models and not spec.onnx:
            skipped[name] = "not ONNX-convertible"
        else:
            specs.append(spec)
    if not specs:
        reasons = "; ".join(f"{name}: {why}" for name, why in skipped.items())
        raise ConfigError(f"No model can be trained with these settings ({reasons}). "
                          "Allow other models in allowed_models, or drop weight_column_name.")
    return specs, skipped


def run_search(spark, prepared: PreparedData, config: AutoMLConfig, on_results, stopper: Stopper,
               progress: Progress) -> SearchOutcome:
    data = prepared.search
    specs, skipped = eligible_specs(config, data.n_rows, data.weight is not None)
    for name, why in skipped.items():
        progress.stage(f"Skipping {name}: {why}")
    is_local = spark is None or spark.sparkContext.master.startswith("local")
    backend_name = choose_backend(config.backend, data.n_rows, data.X.shape[1], is_local)
    ctx = TrialContext(config.metric, config.seed, config.cores_per_trial, config.max_concurrent_iterations,
                       config.trial_timeout_seconds)
    backend = BACKENDS[backend_name](spark=spark, trials_per_task=config.trials_per_task)
    sweeper = Sweeper(specs, seed=config.seed)
    progress.stage(f"Searching {len(specs)} models with the {backend_name} backend "
                   f"({config.max_concurrent_iterations} concurrent)")
    results: list[TrialResult] = []

    def collect(batch):
        results.extend(batch)
        on_results(batch)

    t0 = time.time()
    try:
        backend.run(sweeper, data, ctx, stopper, collect)
    finally:
        backend.close()
    return SearchOutcome(results, stopper.should_stop() or "search space exhausted", backend_name,
                         time.time() - t0, skipped)


def best_result(results: list[TrialResult], metric: str | None = None) -> TrialResult:
    from .metrics import to_loss

    ok = [r for r in results if r.status == OK]
    if not ok:
        errors = "; ".join(sorted({r.error.splitlines()[0] for r in results if r.error})[:3])
        raise NoTrialSucceededError(
            f"No trial succeeded ({len(results)} tried). First errors: {errors or 'none recorded'}. "
            "Raise experiment_timeout_minutes or iteration_timeout_minutes, or check the data."
        )
    if metric is None:
        return min(ok, key=lambda r: (r.loss, r.iteration))
    return min(ok, key=lambda r: (to_loss(metric, r.metrics.get(metric, float("nan"))), r.iteration))


def refit(prepared: PreparedData, result: TrialResult, results: list[TrialResult], seed: int, n_jobs: int,
          workers: int = 1, fitted: dict[int, Any] | None = None) -> Pipeline:
    """The final model: featurizer + the candidate (or every ensemble member, `workers` at a
    time) refit on all training rows. `fitted` caches member fits across calls."""
    cache = fitted if fitted is not None else {}
    todo = [m for m in member_results(result, results) if m.iteration not in cache]
    cache.update(fit_many(prepared.search, todo, None, seed, n_jobs, workers))
    return Pipeline([("featurizer", prepared.featurizer), ("model", assemble(result, cache, prepared.search))])


def guardrail_records(guards: list[Guardrail]) -> list[dict]:
    return [{"name": g.name, "status": g.status, "description": g.description, "details": g.details} for g in guards]
