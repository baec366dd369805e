"""A trial is a pure function (data, candidate) -> TrialResult.

It runs anywhere (a thread, a Spark task), never talks to MLflow, and never returns a
live model: only metrics, out-of-fold predictions and timings travel back.
"""

from __future__ import annotations

import pickle
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping, Sequence

import numpy as np

from ..budget import bag_affordable
from ..data.prepare import SearchData
from ..errors import TrialTimeoutError
from ..metrics import to_loss
from ..models import REGISTRY, CategoryCodes, LabelEncodedClassifier, LogTarget, TargetEncoded

OK, FAILED, TIMED_OUT, CANCELED = "ok", "failed", "timed_out", "canceled"
CANCELED_MESSAGE = "canceled by run.cancel_iteration()"


@dataclass(frozen=True)
class Candidate:
    iteration: int
    model: str
    params: Mapping[str, Any]
    origin: str = "portfolio"  # portfolio | tpe

    @property
    def pipeline(self) -> str:
        return f"AutoFeaturizer, {self.model}"


@dataclass
class TrialResult:
    iteration: int
    model: str
    params: dict[str, Any]
    origin: str
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    loss: float = float("inf")
    primary_metric: str = ""
    score: float = float("nan")
    oof: np.ndarray | None = None  # validation / out-of-fold predictions (proba for classification)
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    duration: float = 0.0
    error: str = ""
    started_at: float = 0.0
    ensemble: Any = None  # EnsembleSpec for VotingEnsemble / StackEnsemble results (driver only)
    details: dict[str, Any] = field(default_factory=dict)  # task-specific extras (per-series metrics, ...)
    worker: str = ""  # where it ran: "driver" or the Spark task, as the backend saw it
    model_bytes: int = 0  # one fold's fitted model, pickled: what logging the final model will cost
    model_objects: int = 0  # the objects in it (skops' time goes by objects: a 500-tree forest has ~45,000)


TARGET_TRANSFORM = "target_transform"  # regression: 'none' | 'log1p' (LogTarget), searched like a hyperparameter
LOG_TARGET = "log1p"
CATEGORICAL = "categorical"  # LightGBM: 'onehot' | 'native' (CategoryCodes), searched like a hyperparameter
NATIVE = "native"


def build_estimator(model: str, params: Mapping[str, Any], data_task: str, classes, n_jobs: int, seed: int,
                    code_columns: Sequence[int] = (), woe: bool = False,
                    categorical_groups: Sequence[Sequence[int]] = ()):
    """The unfitted estimator for a candidate; classifiers get the label-safe wrapper. code_columns:
    high-cardinality categorical codes, target-encoded inside each fit (TargetEncoded). A regression
    candidate's target_transform='log1p' learns log1p(y) (LogTarget); categorical='native' gives the
    learner the one-hot blocks (categorical_groups) as categorical columns (CategoryCodes)."""
    spec = REGISTRY.get(model, data_task)
    params = dict(params)
    transform = params.pop(TARGET_TRANSFORM, "none")
    native = params.pop(CATEGORICAL, "onehot") == NATIVE
    est = spec.build(params, data_task, n_jobs=n_jobs, seed=seed)
    if native and categorical_groups:
        est = CategoryCodes(est, tuple(tuple(int(i) for i in g) for g in categorical_groups))
    if code_columns:
        est = TargetEncoded(est, tuple(code_columns), woe, seed)
    if transform == LOG_TARGET:
        est = LogTarget(est)
    if data_task == "classification":
        return LabelEncodedClassifier(est, classes=list(classes), weight_param=spec.weight_param)
    return est


EARLY_STOPPING_MIN_ROUNDS = 200  # below this a boosting configuration grows its trees as given (LightGBM's defaults)
REFIT_ROUNDS_GROWTH = 1.1  # the refit on every row takes a little more rounds than a fold's best


def early_stopping_rounds(model: str, task: str, params: Mapping[str, Any]) -> int | None:
    """The rounds cap when this configuration stops early on a validation fold; None when it does not."""
    stopping = REGISTRY.get(model, task).early_stopping
    if stopping is None:
        return None
    value = params.get(stopping.rounds_param)
    rounds = stopping.default_rounds if value is None else int(value)
    return rounds if rounds >= EARLY_STOPPING_MIN_ROUNDS else None


def patience(rounds: int) -> int:
    """Rounds without improvement before a fit stops: a tenth of the cap, between 10 and 50."""
    return int(min(50, max(10, round(0.1 * rounds))))


def fit_estimator(estimator, model: str, task: str, X, y, weight, valid: tuple | None = None):
    """valid: (X_valid, y_valid) of the fold; a boosting learner stops on it (early_stopping_rounds)."""
    spec = REGISTRY.get(model, task)
    extra: dict[str, Any] = {}
    if valid is not None and spec.early_stopping is not None:
        learner = _learner(estimator)
        cap = early_stopping_rounds(model, task, learner.get_params())
        if cap is not None:
            extra = spec.early_stopping.watch(learner, valid[0], valid[1], patience(cap))
    if weight is not None and spec.supports_weights:
        extra["sample_weight" if task == "classification" else spec.weight_param] = weight
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=_thread_limits(spec, _learner(estimator), X.shape[0] * X.shape[1])):
        return estimator.fit(X, y, **extra)


def _thread_limits(spec, learner, cells: int) -> dict[str, int]:
    """Thread caps for one fit. BLAS gets the learner's n_jobs (one when unset): trials run side by side
    on the cores, and a multi-threaded BLAS on small matrices costs more than it saves (a stack's
    LogisticRegressionCV on 3,918 x 35 cells: 20.5 s on two BLAS threads, 0.6 s on one; LogisticRegression
    on adult: 0.29 s vs 0.12 s). A small fit of an OpenMP learner runs on one thread (ModelSpec.one_thread),
    set through n_jobs for LightGBM / XGBoost and as an OpenMP cap for learners without it."""
    params = learner.get_params()
    n_jobs = params.get("n_jobs")
    if spec.one_thread(cells):
        if "n_jobs" in params:
            learner.set_params(n_jobs=1)
        return {"openmp": 1, "blas": 1}
    if n_jobs is not None and n_jobs < 0:
        return {}  # all cores, as asked (max_cores_per_iteration=-1)
    return {"blas": int(n_jobs or 1)}


def searched_params(result) -> dict[str, Any]:
    """The configuration as it was searched: an early-stopped trial's params hold its refit rounds,
    this gives back the cap each fold stopped under."""
    stopped = result.details.get("early_stopping") if result.details else None
    if not stopped:
        return dict(result.params)
    return {**result.params, stopped["rounds_param"]: stopped["max_rounds"]}


def _learner(estimator):
    """The library's learner inside the label and target-encoding wrappers (unfitted or fitted)."""
    while hasattr(estimator, "estimator"):
        estimator = getattr(estimator, "estimator_", None) or estimator.estimator
    return estimator


def best_rounds(estimator, model: str, task: str) -> int | None:
    """The round a fitted, early-stopped learner's validation loss was best at."""
    stopping = REGISTRY.get(model, task).early_stopping
    learner = _learner(estimator)
    return None if stopping is None or learner is None else stopping.best(learner)


def stopped_params(params: Mapping[str, Any], model: str, task: str, best: Sequence[int]) -> dict[str, Any]:
    """The configuration the final model is refit with: the folds' best rounds (a little more, for
    more rows), never above the cap."""
    stopping = REGISTRY.get(model, task).early_stopping
    cap = early_stopping_rounds(model, task, params) or stopping.default_rounds
    return {**params, stopping.rounds_param: int(min(cap, max(1, round(REFIT_ROUNDS_GROWTH * float(np.mean(best))))))}


def fit_fold(model: str, params: Mapping[str, Any], data: SearchData, fold: int, seed: int, n_jobs: int):
    """One configuration fit on a split's training rows, stopping early on its validation rows: a trial's
    fold, and a bagged member's fold model."""
    train_idx, valid_idx = data.splits[fold]
    est = build_estimator(model, params, data.task, data.classes, n_jobs, seed, **data.estimator_args())
    w = data.weight[train_idx] if data.weight is not None else None
    return fit_estimator(est, model, data.task, data.X[train_idx], data.y[train_idx], w,
                         valid=(data.X[valid_idx], data.y[valid_idx]))


def bagged_iterations(candidates: Sequence, bag_folds: int) -> set[int]:
    """The trials whose final model is their k fold models: k-fold CV with bagging on (bag_folds = k) and
    k fold models small enough to log and score (budget.bag_affordable); ensembles are never bagged."""
    return {c.iteration for c in candidates if bag_folds > 1 and getattr(c, "ensemble", None) is None
            and bag_affordable(c.model_bytes, c.model_objects, bag_folds)}


def fit_many(data: SearchData, candidates: list, rows: np.ndarray | None, seed: int, n_jobs: int,
             workers: int = 1, bagged: Collection[int] = ()) -> dict[int, Any]:
    """Fit several candidates (anything with iteration/model/params) on `rows` (all when None),
    `workers` at a time: ensemble members and the winner are refit in parallel on the driver.

    bagged: iterations fit once per CV split instead, under the configuration their trial searched
    (each fold stops early on its own validation rows, as in the trial); each comes back as the list
    of its fold models, in split order."""
    from concurrent.futures import ThreadPoolExecutor

    X, y = (data.X, data.y) if rows is None else (data.X[rows], data.y[rows])
    w = data.weight if rows is None or data.weight is None else data.weight[rows]
    folds = range(len(data.splits))
    jobs = [(c, fold) for c in candidates for fold in (folds if c.iteration in bagged else (None,))]

    def fit_one(job):
        c, fold = job
        if fold is not None:
            return fit_fold(c.model, searched_params(c), data, fold, seed, n_jobs)
        est = build_estimator(c.model, c.params, data.task, data.classes, n_jobs, seed, **data.estimator_args())
        return fit_estimator(est, c.model, data.task, X, y, w)

    if workers <= 1 or len(jobs) <= 1:
        fitted = [fit_one(job) for job in jobs]
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="spark-automl-refit") as pool:
            fitted = list(pool.map(fit_one, jobs))
    out: dict[int, Any] = {}
    for (c, fold), model in zip(jobs, fitted):
        if fold is None:
            out[c.iteration] = model
        else:
            out.setdefault(c.iteration, []).append(model)
    return out


def predict(estimator, task: str, X) -> np.ndarray:
    if task == "classification":
        return estimator.predict_proba(X)
    return np.asarray(estimator.predict(X), dtype=np.float64)


def _cross_validate(candidate: Candidate, data: SearchData, seed: int, n_jobs: int, deadline: float | None,
                    timeout_reason: str = "iteration_timeout_minutes"):
    n_out = len(data.classes) if data.task == "classification" else 0
    oof = np.full((data.n_rows, n_out) if n_out else data.n_rows, np.nan, dtype=np.float64)
    fit_s = pred_s = 0.0
    best: list[int] = []
    for fold, (_, valid_idx) in enumerate(data.splits):
        if deadline is not None and time.time() > deadline:
            raise TrialTimeoutError(f"time limit reached between folds ({timeout_reason})")
        t0 = time.perf_counter()
        est = fit_fold(candidate.model, candidate.params, data, fold, seed, n_jobs)
        t1 = time.perf_counter()
        oof[valid_idx] = predict(est, data.task, data.X[valid_idx])
        pred_s += time.perf_counter() - t1
        fit_s += t1 - t0
        rounds = best_rounds(est, candidate.model, data.task)
        if rounds is not None:
            best.append(rounds)
    return oof, fit_s, pred_s, best, pickled_footprint(est)


class _ByteCounter:
    """A file that only counts what is written: a model's pickled size without holding its bytes."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, chunk) -> int:
        size = memoryview(chunk).nbytes  # large arrays arrive as a pickle.PickleBuffer, which has no len()
        self.size += size
        return size


class _CountingPickler(pickle.Pickler):
    """Counts the objects it pickles (persistent_id is asked once per object)."""

    def __init__(self, sink: _ByteCounter) -> None:
        super().__init__(sink, protocol=pickle.HIGHEST_PROTOCOL)
        self.objects = 0

    def persistent_id(self, obj: Any) -> None:
        self.objects += 1
        return None


def pickled_footprint(obj: Any) -> tuple[int, int]:
    """(bytes, objects) `obj` pickles to; (0, 0) when it cannot be pickled here. One pass, ~30 ms for
    a 500-tree forest, holding none of the bytes."""
    sink = _ByteCounter()
    pickler = _CountingPickler(sink)
    try:
        pickler.dump(obj)
    except Exception:  # noqa: BLE001 - a size estimate must not fail a trial
        return 0, 0
    return sink.size, pickler.objects


def scored_rows(data: SearchData) -> np.ndarray:
    """Rows that received a validation prediction (all rows under k-fold CV); kept for training scripts
    generated by earlier versions."""
    return data.scored_rows()


def evaluate(candidate: Candidate, data: SearchData, primary_metric: str, seed: int = 0, n_jobs: int = 1,
             timeout: float | None = None, timeout_reason: str = "iteration_timeout_minutes") -> TrialResult:
    """Train/validate one candidate; any exception becomes a failed TrialResult.

    timeout_reason names the limit behind `timeout` in the error the user sees.
    """
    started = time.time()
    result = TrialResult(candidate.iteration, candidate.model, dict(candidate.params), candidate.origin, FAILED,
                         primary_metric=primary_metric, started_at=started)
    try:
        deadline = started + timeout if timeout else None
        oof, fit_s, pred_s, best, footprint = run_with_timeout(
            lambda: _cross_validate(candidate, data, seed, n_jobs, deadline, timeout_reason), timeout, timeout_reason)
        t0 = time.perf_counter()
        metrics = data.target.score(oof, also=(primary_metric,))
        pred_s += time.perf_counter() - t0
        result.metrics, result.oof = metrics, oof.astype(np.float32)
        result.score = metrics.get(primary_metric, float("nan"))
        result.loss = to_loss(primary_metric, result.score)
        result.fit_seconds, result.predict_seconds = fit_s, pred_s
        result.model_bytes, result.model_objects = footprint
        cap = early_stopping_rounds(candidate.model, data.task, candidate.params)
        if cap is not None and best:  # the params logged are the ones the final model is refit with
            result.params = stopped_params(candidate.params, candidate.model, data.task, best)
            result.details["early_stopping"] = {
                "rounds_param": REGISTRY.get(candidate.model, data.task).early_stopping.rounds_param,
                "max_rounds": cap, "best_rounds": best, "patience": patience(cap)}
        result.status = OK if np.isfinite(result.loss) else FAILED
        if result.status == FAILED:
            result.error = f"primary metric {primary_metric} is not finite ({result.score})"
    except TrialTimeoutError as err:
        result.status, result.error = TIMED_OUT, f"TrialTimeoutError: {err}"
    except Exception as err:  # noqa: BLE001 - a trial failure is recorded, never fatal
        result.error = "".join(traceback.format_exception_only(type(err), err)).strip()
        result.error += "\n" + "".join(traceback.format_tb(err.__traceback__)[-3:])
    result.duration = time.time() - started
    return result


MEMORY_FACTOR = 3.0  # a trial's working set vs its data: a fold's training copy plus the learner's own copy


class Evaluator:
    """What a backend ships to wherever trials run (a thread, a Spark task): the task's
    validation data and the fixed trial settings. Calling it evaluates one candidate; it is
    pure and picklable. Each task (tabular, forecasting) supplies one."""

    primary_metric: str
    mem_in_mb: int | None = None  # Azure's per-iteration memory cap
    custom_metrics: tuple = ()  # CustomMetric specs, registered wherever the trials run
    model_specs: tuple = ()  # ModelSpecs registered at runtime (a notebook's own model), likewise

    def data_bytes(self) -> int:  # pragma: no cover - each task measures its own data
        raise NotImplementedError

    def over_memory(self, candidate: "Candidate") -> "TrialResult | None":
        """mem_in_mb honoured before any fit: a trial whose working set would exceed it is not run."""
        if self.mem_in_mb is None:
            return None
        needed = MEMORY_FACTOR * self.data_bytes() / 2**20
        if needed <= self.mem_in_mb:
            return None
        return self.failed(candidate, FAILED, f"MemoryLimit: this iteration needs about {needed:.0f} MB, more than "
                                              f"mem_in_mb={self.mem_in_mb}; raise mem_in_mb or sample the data.")

    def __call__(self, candidate: Candidate, timeout: float | None = None,
                 timeout_reason: str = "iteration_timeout_minutes") -> TrialResult:
        """One candidate under a time limit; `timeout_reason` names that limit in a timeout error."""
        from ..metrics import register_metric

        for metric in self.custom_metrics:
            register_metric(metric)
        if self.model_specs:
            from ..models import REGISTRY

            REGISTRY.adopt(self.model_specs)
        refused = self.over_memory(candidate)
        return refused if refused is not None else self.run(candidate, timeout, timeout_reason)

    def run(self, candidate: Candidate, timeout: float | None,
            timeout_reason: str) -> TrialResult:  # pragma: no cover - each task evaluates its own way
        raise NotImplementedError

    def failed(self, candidate: Candidate, status: str, error: str) -> TrialResult:
        return TrialResult(candidate.iteration, candidate.model, dict(candidate.params), candidate.origin, status,
                           primary_metric=self.primary_metric, error=error, started_at=time.time())


@dataclass
class TabularEvaluator(Evaluator):
    data: SearchData
    primary_metric: str
    seed: int = 0
    n_jobs: int = 1
    mem_in_mb: int | None = None

    def data_bytes(self) -> int:
        return int(self.data.X.nbytes)

    def run(self, candidate: Candidate, timeout: float | None, timeout_reason: str) -> TrialResult:
        return evaluate(candidate, self.data, self.primary_metric, self.seed, self.n_jobs, timeout, timeout_reason)


def run_with_timeout(fn, timeout: float | None, reason: str = "iteration_timeout_minutes"):
    """Enforce iteration_timeout_minutes. The worker thread cannot be killed, so a
    timed-out fit finishes in the background; the experiment moves on without it."""
    if not timeout:
        return fn()
    from joblib import parallel_config
    from joblib.parallel import get_active_backend

    box: dict[str, Any] = {}
    # joblib's configuration is per thread: the fit's thread takes the caller's backend (a trial process
    # runs joblib on threads, see search/backends/processes.py), else it falls back to loky
    backend, _ = get_active_backend()

    def target():
        try:
            with parallel_config(backend=backend):
                box["value"] = fn()
        except BaseException as err:  # noqa: BLE001
            box["error"] = err

    worker = threading.Thread(target=target, daemon=True, name="spark-automl-trial")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TrialTimeoutError(f"trial stopped after {timeout:.1f} s: {reason}")
    if "error" in box:
        raise box["error"]
    return box["value"]
