"""The one registry of models: adding a model is adding one ModelSpec.

Each spec carries its Azure name, the tasks it serves, a factory, its hyperopt search
space, a few strong default configurations (the portfolio tried before Bayesian search)
and capability flags the search uses instead of guessing from names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from ..errors import ConfigError
from .space import Param

TASKS = ("classification", "regression", "forecasting")
LEARNER, STATISTICAL = "learner", "statistical"


@dataclass(frozen=True)
class EarlyStopping:
    """How a boosting learner stops on a validation fold instead of growing a fixed number of trees.

    rounds_param caps the rounds (its value, or default_rounds when a configuration leaves it out);
    watch(learner, X_valid, y_valid, patience) returns the fit keyword arguments that make the
    learner watch the validation rows (it may set_params too); best(fitted_learner) is the number
    of rounds the validation loss was best at."""

    rounds_param: str
    default_rounds: int
    watch: Callable[..., dict]
    best: Callable[[Any], int | None]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    tasks: tuple[str, ...]
    factory: Callable[..., Any]  # factory(params, task=..., n_jobs=..., seed=...) -> unfitted estimator
    space: Mapping[str, Param]
    defaults: tuple[Mapping[str, Any], ...] = ({},)
    priority: int = 50  # lower goes first in the portfolio
    supports_weights: bool = True
    onnx: bool = True
    distributed: bool = False
    max_rows: int | None = None  # above this the default search skips the model (too slow)
    weight_param: str = "sample_weight"
    notes: str = ""
    # learner: a scikit-learn estimator (tabular tasks; global forecasters over lag features).
    # statistical: a per-series forecaster; build() gives the library's model for a season length.
    kind: str = LEARNER
    needs_season: bool = False  # statistical: falls back to its non-seasonal form on short series
    uses_covariates: bool = False  # statistical: regresses on the known covariates (Arimax)
    slow: bool = False  # tried after the first learners of the portfolio
    # statistical: the cycles modelled for a detected season m (default [m]); a series needs two of the longest
    seasons: Callable[[int], list[int]] | None = None
    framework: str = "sklearn"  # the library it comes from (Databricks' exclude_frameworks)
    # the install extra its library comes with (spark_automl/extras.py). Such a model is beyond Azure's list
    # and opt-in: it runs when allowed_models names it (CatBoost measured no better on average than the
    # default search without it: benchmarks/results/sa_only_catboost.md); without the extra, naming it fails
    # before any work with the pip line
    extra: str | None = None
    early_stopping: EarlyStopping | None = None  # boosting: rounds chosen on each validation fold
    # settings of a searched choice worth trying at once: each is laid over the model's first portfolio
    # entry and runs right after it (LightGBM's defaults on log1p(y), on native categories)
    variants: tuple[Mapping[str, Any], ...] = ()
    # OpenMP learners: below this many training cells (rows x features) one thread is faster than several,
    # because waking the threads costs more than the work (LightGBM's defaults on 2,600 x 11 wine rows, 7
    # classes: 0.5 s on one thread, 11.5 s on two with OMP_WAIT_POLICY=PASSIVE)
    threads_from_cells: int | None = None

    def one_thread(self, cells: int | None) -> bool:
        """Whether a fit on `cells` training cells runs faster on one thread."""
        return self.threads_from_cells is not None and cells is not None and cells < self.threads_from_cells

    @property
    def installed(self) -> bool:
        """Whether its library can be imported here (always, for the core install's models)."""
        from ..extras import has_extra

        return self.extra is None or has_extra(self.extra)

    @property
    def tunable(self) -> bool:
        return bool(self.space)

    def build(self, params: Mapping[str, Any], task: str, n_jobs: int = 1, seed: int = 0) -> Any:
        return self.factory(dict(params), task=task, n_jobs=n_jobs, seed=seed)


@dataclass
class ModelRegistry:
    _specs: dict[str, ModelSpec] = field(default_factory=dict)

    def register(self, spec: ModelSpec) -> ModelSpec:
        for task in spec.tasks:
            if (task, spec.name) in self._keys():
                raise ConfigError(f"model {spec.name!r} registered twice for task {task!r}")
        self._specs[f"{spec.name}|{'+'.join(spec.tasks)}"] = spec
        return spec

    def runtime_specs(self) -> tuple[ModelSpec, ...]:
        """Specs registered outside this package (a user's model): what a trial's worker process or
        Spark executor, which imports only the package, must be sent."""
        return tuple(s for s in self._specs.values()
                     if not getattr(s.factory, "__module__", "").startswith(__name__.split(".")[0] + "."))

    def adopt(self, specs) -> None:
        """Register the sent specs this process does not have yet (trial workers, executors)."""
        for spec in specs:
            self._specs.setdefault(f"{spec.name}|{'+'.join(spec.tasks)}", spec)

    def _keys(self) -> set[tuple[str, str]]:
        return {(t, s.name) for s in self._specs.values() for t in s.tasks}

    def names(self, task: str) -> list[str]:
        return sorted({s.name for s in self._specs.values() if task in s.tasks})

    def get(self, name: str, task: str) -> ModelSpec:
        for spec in self._specs.values():
            if spec.name == name and task in spec.tasks:
                return spec
        raise ConfigError(
            f"Unknown model {name!r} for task {task!r}. Valid choices: {', '.join(self.names(task))}."
        )

    def for_task(self, task: str) -> list[ModelSpec]:
        return sorted((s for s in self._specs.values() if task in s.tasks), key=lambda s: (s.priority, s.name))

    def to_frame(self) -> pd.DataFrame:
        """The registry as a table, for docs and for users choosing allowed_models."""
        rows = [
            {
                "model": s.name,
                "tasks": ",".join(s.tasks),
                "params": ",".join(s.space),
                "portfolio": len(s.defaults),
                "sample_weight": s.supports_weights,
                "onnx": s.onnx,
                "max_rows": s.max_rows,
                "kind": s.kind,
            }
            for s in sorted(self._specs.values(), key=lambda s: (s.tasks, s.priority, s.name))
        ]
        return pd.DataFrame(rows)


REGISTRY = ModelRegistry()
