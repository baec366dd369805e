"""The one module that talks to MLflow, always through an MlflowClient bound to explicit
tracking and registry URIs: the library never sets process-global MLflow state, so two
experiments with different stores in one session write where each was told.

Child runs are written with log_batch (~16 ms per run instead of ~60 ms for per-value
calls). Every write is guarded: a tracking failure becomes a warning and never loses a
finished search (the run keeps its fitted model and can log it again).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import pickle
import re
import tempfile
import threading
import time
import warnings
from typing import Any, Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from .errors import AutoMLError, ConfigError

log = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
PARENT_TAG = "mlflow.parentRunId"
MAX_PARAM_LENGTH = 6000
MAX_BATCH_PARAMS = 100  # MLflow caps a log_batch at 100 params
FORECASTING_PACKAGES = ("statsforecast", "prophet", "statsmodels", "holidays")
RECORD_PATH = "automl/run_record.pkl"
CHECKPOINT_DIR = "automl/checkpoint"  # the config at start and each batch of trials as it finishes: resume reads it
CHECKPOINT_OOF_MAX_BYTES = 8 * 2**20  # a trial's validation predictions above this are not kept (no ensemble member)
MODEL_DIR = "model"
PROBE_SECONDS = 5.0  # a tracking server that does not answer in this long fails the run at its start
# MLflow's own stores; plugins may add schemes (checked through MLflow's registry when it can be read)
KNOWN_SCHEMES = ("", "file", "sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks",
                 "databricks-uc", "uc")
_CREDENTIALS = re.compile(r"(?<=://)([^:/@\s]+):([^@/\s]+)@")


class TrackingWarning(RuntimeWarning):
    """An MLflow call failed; the experiment went on without it."""


class TrackingError(AutoMLError):
    """What a run needs from the tracking store (its record, its model) cannot be read."""


def resolve_tracking_uri(tracking_uri: str | None) -> str:
    """The store: the argument, else MLFLOW_TRACKING_URI, else the workspace on Databricks,
    else an embedded SQLite file in the working directory."""
    if tracking_uri:
        return tracking_uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return "databricks" if os.environ.get("DATABRICKS_RUNTIME_VERSION") else DEFAULT_TRACKING_URI


def resolve_registry_uri(registry_uri: str | None, tracking_uri: str) -> str:
    return registry_uri or os.environ.get("MLFLOW_REGISTRY_URI") or tracking_uri


def redact(text: Any) -> str:
    """`scheme://user:password@host` with the password masked: for every message and printed line."""
    return _CREDENTIALS.sub(r"\1:***@", str(text))


def _schemes() -> set[str]:
    try:
        from mlflow.tracking._tracking_service.utils import _tracking_store_registry

        return set(KNOWN_SCHEMES) | set(_tracking_store_registry._registry)
    except Exception:  # noqa: BLE001 - a private registry that moved: the known schemes still hold
        return set(KNOWN_SCHEMES)


def check_uri(name: str, uri: str | None) -> None:
    """A tracking/registry URI with a scheme MLflow has no store for fails here, in microseconds."""
    if uri is None:
        return
    if not isinstance(uri, str) or not uri.strip():
        raise ConfigError(f"The '{name}' parameter must be a non-empty str (an MLflow URI). Got {uri!r} instead.")
    scheme = urlsplit(uri).scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter: a local path
        return
    if scheme not in _schemes():
        raise ConfigError(f"The '{name}' parameter {redact(uri)!r} has the scheme {scheme!r}, which MLflow has no "
                          f"store for. Use e.g. sqlite:///mlflow.db, a folder path, http(s)://host:port, "
                          f"postgresql://... or databricks.")


def probe(uri: str, timeout: float = PROBE_SECONDS) -> None:
    """An HTTP tracking server must answer within `timeout` seconds, before any work: otherwise MLflow's
    retries would stall every call for minutes. Raises TrackingError naming the URI (redacted)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https"):
        return
    import requests

    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    url = f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}/health"
    auth = (parts.username, parts.password or "") if parts.username else None
    try:
        requests.get(url, timeout=timeout, auth=auth)
    except requests.RequestException as err:
        raise TrackingError(f"The MLflow tracking server at {redact(uri)} did not answer within {timeout:.0f}s "
                            f"({type(err).__name__}). Fix: start it or correct tracking_uri, or use the embedded "
                            "store (tracking_uri='sqlite:///mlflow.db').") from None


def sqlite_file(uri: str) -> str | None:
    """The absolute path of a SQLite store's database file (None for any other store)."""
    parts = urlsplit(uri)
    path = parts.path[1:]  # sqlite:///relative.db, sqlite:////absolute.db
    if parts.scheme != "sqlite" or not path or path == ":memory:":
        return None
    return os.path.abspath(path)


def artifact_location(uri: str) -> str | None:
    """Where a new experiment of a SQLite store keeps its artifacts: a folder of its own under mlruns/
    beside the database file. MLflow's default is ./mlruns of whatever the working directory is, so a
    store opened by path from elsewhere scattered its models there, and a copied store folder lost
    them. None (the server's or MLflow's choice) for every other store."""
    database = sqlite_file(uri)
    if database is None:
        return None
    import uuid

    return os.path.join(os.path.dirname(database), "mlruns", uuid.uuid4().hex)


def create_experiment(client, tracking_uri: str, name: str) -> str:
    """The id of experiment `name`, created (artifacts at `artifact_location`) when missing; another
    process creating it at the same time is no error."""
    from mlflow.exceptions import MlflowException

    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location(tracking_uri))
    except MlflowException as err:
        if err.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return client.get_experiment_by_name(name).experiment_id


@contextlib.contextmanager
def store_lock(uri: str):
    """Serialise the first use of a SQLite store across processes: two processes that create a new
    store at once would race its schema migration."""
    database = sqlite_file(uri)
    if database is None:
        yield
        return
    import fcntl

    os.makedirs(os.path.dirname(database), exist_ok=True)
    with open(database + ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


CALL_SECONDS = 15.0  # one MLflow write may take this long; past it the store counts as unreachable
UPLOAD_SECONDS_PER_MB = 0.1  # an upload's bound grows with its size (10 MB/s: a slow link, not a dead one)


def upload_seconds(size_bytes: int) -> float:
    """How long an upload of this many bytes may take before the store counts as unreachable."""
    return CALL_SECONDS + UPLOAD_SECONDS_PER_MB * size_bytes / 2**20


HEARTBEAT_TAG, HEARTBEAT_EVERY_TAG = "automl.heartbeat", "automl.heartbeat_seconds"
DEAD_AFTER_BEATS = 4  # a RUNNING parent whose heartbeat is this many intervals old has lost its driver


def heartbeat_seconds() -> float:
    """How often a running experiment marks its parent run alive (SPARK_AUTOML_HEARTBEAT_SECONDS, default 30)."""
    try:
        return max(float(os.environ.get("SPARK_AUTOML_HEARTBEAT_SECONDS", "30")), 0.2)
    except ValueError:
        return 30.0


CANCEL_TAG = "automl.cancel_requested"  # run.cancel() from a handle without the driver (another process)


def cancel_poll_seconds() -> float:
    """How often a running experiment looks for a cancel request on its parent run
    (SPARK_AUTOML_CANCEL_POLL_SECONDS, default 5): one small read of the run's tags each time."""
    try:
        return max(float(os.environ.get("SPARK_AUTOML_CANCEL_POLL_SECONDS", "5")), 0.2)
    except ValueError:
        return 5.0


def is_dead(mlflow_run, now: float | None = None) -> bool:
    """A RUNNING parent whose driver stopped beating (SIGKILL, a lost machine): nobody will close it."""
    tags = mlflow_run.data.tags
    if mlflow_run.info.status != "RUNNING" or HEARTBEAT_TAG not in tags:
        return False
    every = float(tags.get(HEARTBEAT_EVERY_TAG, 30))
    return (now or time.time()) - float(tags[HEARTBEAT_TAG]) > DEAD_AFTER_BEATS * every


def _safe(fn):
    """Every tracking write: a failure becomes a TrackingWarning, and a call that does not return within
    CALL_SECONDS (an HTTP server that went away: MLflow retries for minutes) marks the store
    unreachable, so the run's later writes are skipped at once instead of stalling the search.
    `Tracker.reconnect()` (called by run.log_model()) tries again."""
    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        if getattr(_IN_CALL, "active", False):  # a write inside a write: already bounded
            return fn(self, *args, **kwargs)
        seconds = kwargs.pop("call_seconds", CALL_SECONDS)  # a large upload may take longer than one write
        if self.skipped(fn.__name__):
            return None
        try:
            return self._bounded(fn, *args, seconds=seconds, **kwargs)
        except Exception as err:  # noqa: BLE001 - tracking must not kill training
            self._warn(fn.__name__, err)
            return None

    return wrapper


_IN_CALL = threading.local()


def _marked(fn, *args, **kwargs):
    _IN_CALL.active = True
    try:
        return fn(*args, **kwargs)
    finally:
        _IN_CALL.active = False



_URL_PRINTING = {"lock": threading.Lock(), "users": 0, "before": None}
_SUPPRESS_URL = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"


@contextlib.contextmanager
def _no_url_printing(uri: str):
    """MLflow prints a run link built from the tracking URI when a run ends; a URI with credentials
    would print the password, so the link is suppressed while such a run ends (counted, so threads
    ending runs at once restore the setting only when the last one is done)."""
    if _CREDENTIALS.search(uri) is None:
        yield
        return
    state = _URL_PRINTING
    with state["lock"]:
        if state["users"] == 0:
            state["before"] = os.environ.get(_SUPPRESS_URL)
            os.environ[_SUPPRESS_URL] = "true"
        state["users"] += 1
    try:
        yield
    finally:
        with state["lock"]:
            state["users"] -= 1
            if state["users"] == 0:
                if state["before"] is None:
                    os.environ.pop(_SUPPRESS_URL, None)
                else:
                    os.environ[_SUPPRESS_URL] = state["before"]


class Tracker:
    """Parent run per experiment, one child run per trial, the model, the run record and the registry."""

    def __init__(self, experiment_name: str, tracking_uri: str | None = None, registry_uri: str | None = None):
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.registry_uri = resolve_registry_uri(registry_uri, self.tracking_uri)
        registry_lock = store_lock(self.registry_uri) if self.registry_uri != self.tracking_uri else contextlib.nullcontext()
        with store_lock(self.tracking_uri), registry_lock:  # MLflow creates (and migrates) a new store here
            from mlflow.tracking import MlflowClient  # mlflow is imported when a run first needs it

            self.client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)
        self.experiment_name = experiment_name
        self.unreachable = False  # a write timed out: later writes are skipped (see _safe)
        self._calls: Any = None  # one worker thread for writes, made on first use
        self.experiment_id: str | None = None
        self.parent_run_id: str | None = None
        self.child_run_ids: dict[int, str] = {}
        self.failures: list[str] = []

    # ---- experiment and parent ---------------------------------------------------------
    @_safe
    def open_experiment(self) -> str:
        """Get or create the experiment (see create_experiment)."""
        with store_lock(self.tracking_uri):
            self.experiment_id = create_experiment(self.client, self.tracking_uri, self.experiment_name)
        return self.experiment_id

    def check(self) -> None:
        """Fail in seconds, before any work, when the tracking server does not answer."""
        probe(self.tracking_uri)

    def reconnect(self) -> None:
        """Try the store again after it timed out (a fresh worker: the old one may still be stuck)."""
        self.unreachable, self._calls = False, None

    def skipped(self, name: str) -> bool:
        """A write not tried because the store timed out earlier (recorded among the failures)."""
        if self.unreachable:
            self.failures.append(f"skipped {name}: the tracking store did not answer earlier")
        return self.unreachable

    def _warn(self, name: str, err: BaseException) -> None:
        message = redact(f"MLflow tracking failed in {name}: {type(err).__name__}: {err}")
        self.failures.append(message)
        warnings.warn(message, TrackingWarning, stacklevel=3)

    def _bounded(self, fn, *args, seconds: float, **kwargs):
        """Run one write in the tracker's worker thread and wait at most `seconds` for it."""
        from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout

        if self._calls is None:
            self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="automl-tracking")
        future = self._calls.submit(_marked, fn, self, *args, **kwargs)
        try:
            return future.result(timeout=seconds)
        except FutureTimeout:
            self.unreachable = True
            self._calls.shutdown(wait=False)  # its thread finishes (or fails) in the background
            raise TrackingError(f"{fn.__name__} did not return within {seconds:.0f}s: the tracking store at "
                                f"{redact(self.tracking_uri)} is treated as unreachable for the rest of this run; "
                                "the run keeps its model (run.log_model() tries again)") from None

    def find_experiment(self) -> str:
        """The experiment's id for re-attaching: it must exist."""
        existing = self.client.get_experiment_by_name(self.experiment_name)
        if existing is None:
            raise TrackingError(f"No MLflow experiment named {self.experiment_name!r} at {redact(self.tracking_uri)}.")
        self.experiment_id = existing.experiment_id
        return self.experiment_id

    @_safe
    def start_parent(self, run_name: str, params: Mapping[str, Any], tags: Mapping[str, str],
                     start_time: float | None = None) -> str:
        """start_time: when submit() began, so the parent run spans data preparation too."""
        if self.experiment_id is None and self.open_experiment() is None:
            return None
        run = self.client.create_run(self.experiment_id, run_name=run_name, tags=dict(tags),
                                     start_time=int(start_time * 1000) if start_time else None)
        self.parent_run_id = run.info.run_id
        self._log_batch(self.parent_run_id, params=params)
        return self.parent_run_id

    def start_heartbeat(self) -> Callable[[], None]:
        """Mark the parent run alive every heartbeat_seconds() from a daemon thread, so a reader can tell a
        run whose driver died (still RUNNING, no recent beat). Returns the function that stops it."""
        every = heartbeat_seconds()

        @_safe
        def beat(self, first: bool = False) -> None:
            tags = {HEARTBEAT_TAG: f"{time.time():.3f}", **({HEARTBEAT_EVERY_TAG: str(every)} if first else {})}
            self._log_batch(self.parent_run_id, tags=tags)

        def step() -> bool:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                beat(self)
            return False

        if self.parent_run_id is None:
            return lambda: None
        beat(self, first=True)
        return self._every(every, "automl-heartbeat", step)

    def _every(self, seconds: float, name: str, step: Callable[[], bool]) -> Callable[[], None]:
        """Run step() every `seconds` from a daemon thread until it returns True, the store is marked
        unreachable, or the returned function is called (the heartbeat and the cancel watch)."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(seconds) and not self.unreachable:
                if step():
                    return

        threading.Thread(target=loop, name=name, daemon=True).start()
        return stop.set

    def watch_cancel(self, on_cancel: Callable[[], None]) -> Callable[[], None]:
        """Call on_cancel once when the parent run gets CANCEL_TAG (request_cancel, from any process),
        looking every cancel_poll_seconds() from a daemon thread. A request left from an earlier attempt
        of a resumed run is dropped first. Returns the function that stops watching."""
        if self.parent_run_id is None:
            return lambda: None
        run_id = self.parent_run_id
        try:
            if CANCEL_TAG in self.client.get_run(run_id).data.tags:
                self.client.delete_tag(run_id, CANCEL_TAG)
        except Exception:  # noqa: BLE001 - watching is best effort: the in-process cancel still works
            pass

        def step() -> bool:
            try:
                requested = CANCEL_TAG in self.client.get_run(run_id).data.tags
            except Exception:  # noqa: BLE001 - a missed look is retried at the next one
                return False
            if requested:
                on_cancel()
            return requested

        return self._every(cancel_poll_seconds(), "automl-cancel-watch", step)

    def request_cancel(self, run_id: str) -> None:
        """Ask the driver running `run_id` to cancel it (it looks every cancel_poll_seconds())."""
        self.client.set_tag(run_id, CANCEL_TAG, f"{time.time():.3f}")

    @_safe
    def tag_parent(self, tags: Mapping[str, str]) -> None:
        """Pointers a person reads on the parent run's page: best child, model, registered version."""
        if self.parent_run_id is not None:
            self._log_batch(self.parent_run_id, tags=tags)

    @_safe
    def close_parent(self, status: str, summary: Mapping[str, float], tags: Mapping[str, str]) -> None:
        if self.parent_run_id is None:
            return
        self._log_batch(self.parent_run_id, metrics=summary, tags=tags)
        self._terminate(self.parent_run_id, status)

    @_safe
    def log_inputs(self, inputs: Sequence[Any]) -> None:
        """Dataset lineage on the parent run (mlflow DatasetInputs)."""
        if self.parent_run_id is not None and inputs:
            self.client.log_inputs(self.parent_run_id, datasets=list(inputs))

    @_safe
    def log_dict(self, payload: Any, artifact_file: str, run_id: str | None = None) -> None:
        if self._run(run_id):
            self.client.log_dict(self._run(run_id), payload, artifact_file)

    @_safe
    def log_text(self, text: str, artifact_file: str, run_id: str | None = None) -> None:
        if self._run(run_id):
            self.client.log_text(self._run(run_id), text, artifact_file)

    def _run(self, run_id: str | None) -> str | None:
        return run_id or self.parent_run_id

    def run_of(self, iteration: int) -> str | None:
        """The child run of an iteration, else the parent."""
        return self.child_run_ids.get(iteration) or self.parent_run_id

    # ---- children ---------------------------------------------------------------------
    @_safe
    def log_trials(self, results: Iterable) -> None:
        """One child run per TrialResult, batched."""
        if self.parent_run_id is None:
            return
        for r in results:
            tags = {PARENT_TAG: self.parent_run_id, "model_name": r.model, "status": r.status,
                    "iteration": str(r.iteration), "origin": r.origin}
            if r.error:
                tags["error"] = r.error[:5000]
            if r.worker:
                tags["worker"] = r.worker
            run = self.client.create_run(self.experiment_id, run_name=f"{r.iteration}_{r.model}",
                                         tags=tags, start_time=int(r.started_at * 1000) or None)
            metrics = dict(r.metrics)
            metrics.update({"duration_seconds": r.duration, "fit_seconds": r.fit_seconds,
                            "predict_seconds": r.predict_seconds})
            params = {"model": r.model, **{f"param_{k}": v for k, v in r.params.items()}}
            self._log_batch(run.info.run_id, params=params, metrics=metrics)
            status = {"ok": "FINISHED", "canceled": "KILLED"}.get(r.status, "FAILED")
            end = int((r.started_at + r.duration) * 1000) if r.started_at else None
            self._terminate(run.info.run_id, status, end)
            self.child_run_ids[r.iteration] = run.info.run_id
        self._checkpoint(results)

    def _checkpoint(self, results) -> None:
        """The finished trials, validation predictions included, so continue_experiment() can go on
        from them after the driver died (a child run alone does not hold what ensembles need)."""
        import copy

        kept = []
        for r in results:
            r = copy.copy(r)
            r.ensemble = None if r.origin == "ensemble" else r.ensemble
            if r.oof is not None and r.oof.nbytes > CHECKPOINT_OOF_MAX_BYTES:
                r.oof = None
            kept.append(r)
        if not kept:
            return
        first = min(r.iteration for r in kept)
        self._log_pickle(kept, f"{CHECKPOINT_DIR}/trials_{first:06d}_{time.time_ns()}.pkl")

    def _log_pickle(self, payload: Any, artifact_file: str, run_id: str | None = None) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, os.path.basename(artifact_file))
            with open(path, "wb") as fh:
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
            self.client.log_artifact(self._run(run_id), path, os.path.dirname(artifact_file))

    @_safe
    def log_checkpoint_config(self, config: Any) -> None:
        if self.parent_run_id is not None:
            self._log_pickle(config, f"{CHECKPOINT_DIR}/config.pkl")

    def load_checkpoint(self, run_id: str) -> tuple[Any, list]:
        """(the run's config, its finished trials by iteration) from the checkpoint; (None, []) when absent."""
        config, by_iteration = None, {}
        with tempfile.TemporaryDirectory() as tmp:
            try:
                items = self.client.list_artifacts(run_id, CHECKPOINT_DIR)
            except Exception:  # noqa: BLE001 - no checkpoint
                return None, []
            for item in sorted(items, key=lambda i: i.path):
                with open(self.client.download_artifacts(run_id, item.path, tmp), "rb") as fh:
                    payload = pickle.load(fh)
                if item.path.endswith("config.pkl"):
                    config = payload
                else:
                    by_iteration.update({r.iteration: r for r in payload})
        return config, [by_iteration[i] for i in sorted(by_iteration)]

    def adopt_parent(self, run_id: str):
        """Point this tracker at an existing parent run and its trial children; returns the MLflow run."""
        run = self.client.get_run(run_id)
        self.experiment_id, self.parent_run_id = run.info.experiment_id, run_id
        query = f"tags.`{PARENT_TAG}` = '{run_id}'"
        for child in self.client.search_runs([self.experiment_id], query, max_results=50000):
            iteration = child.data.tags.get("iteration")
            if iteration is not None and child.data.tags.get("origin") not in (None, "ensemble"):
                self.child_run_ids.setdefault(int(iteration), child.info.run_id)
        return run

    def reopen_parent(self, run_id: str) -> None:
        """continue_experiment: the same parent run goes on (RUNNING again), its children kept."""
        self.adopt_parent(run_id)
        self.client.update_run(run_id, status="RUNNING")

    @_safe
    def log_run(self, name: str, metrics: Mapping[str, float] | None = None, params: Mapping[str, Any] | None = None,
                tags: Mapping[str, str] | None = None) -> str | None:
        """A child run that is not a trial (model test, explanation on demand)."""
        if self.parent_run_id is None:
            return None
        run = self.client.create_run(self.experiment_id, run_name=name,
                                     tags={PARENT_TAG: self.parent_run_id, **dict(tags or {})})
        self._log_batch(run.info.run_id, params=params, metrics=metrics)
        self._terminate(run.info.run_id, "FINISHED")
        return run.info.run_id

    def _terminate(self, run_id: str, status: str, end_time: int | None = None) -> None:
        with _no_url_printing(self.tracking_uri):
            self.client.set_terminated(run_id, status=status, end_time=end_time)

    @_safe
    def log_files(self, files: Mapping[str, bytes | str], artifact_dir: str | None, run_id: str | None = None) -> None:
        """Several in-memory artifacts (PNG charts, CSV tables, code) in one upload."""
        if not files or not self._run(run_id):
            return
        with tempfile.TemporaryDirectory() as tmp:
            for name, content in files.items():
                path = os.path.join(tmp, name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as fh:
                    fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            self.client.log_artifacts(self._run(run_id), tmp, artifact_dir)

    def _log_batch(self, run_id: str, params: Mapping[str, Any] | None = None,
                   metrics: Mapping[str, float] | None = None, tags: Mapping[str, str] | None = None) -> None:
        now = int(time.time() * 1000)
        from mlflow.entities import Metric, Param, RunTag

        m = [Metric(k, float(v), now, 0) for k, v in (metrics or {}).items()
             if v is not None and isinstance(v, (int, float)) and not math.isnan(float(v))]
        p = [Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in (params or {}).items()]
        t = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        for i in range(0, max(len(m), len(p), len(t), 1), MAX_BATCH_PARAMS):
            self.client.log_batch(run_id, metrics=m[i:i + 1000] if i == 0 else [], params=p[i:i + MAX_BATCH_PARAMS],
                                  tags=t[i:i + MAX_BATCH_PARAMS])

    # ---- the model and the run record -----------------------------------------------------
    def log_model(self, flavor: str, model, run_id: str, input_example, signature) -> str | None:
        """Save the model as an MLflow model (sklearn: skops where every type in it is trusted,
        else cloudpickle, see model_format.py; pyfunc for the forecaster) and upload it to the run.

        Saving is local work, done here; only the upload waits on the store, and its bound grows with
        the model's bytes (a forest of a few hundred MB is no sign of a dead server)."""
        if run_id is None or self.skipped("log_model"):  # no saving for a store that will not take it
            return None
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path, tags = _save_model(tmp, flavor, model, input_example, signature)
            except Exception as err:  # noqa: BLE001 - a model that cannot be saved must not lose the run
                self._warn("log_model", err)
                return None
            size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)
            return self.log_model_files(run_id, path, tags, call_seconds=upload_seconds(size))

    @_safe
    def log_model_files(self, run_id: str, path: str, tags: dict[str, str]) -> str:
        if tags:
            self._log_batch(run_id, tags=tags)
        self.client.log_artifacts(run_id, path, MODEL_DIR)
        return f"runs:/{run_id}/{MODEL_DIR}"

    def load_model(self, model_uri: str, flavor: str):
        """The logged model, read through this tracker's client (no global MLflow URI)."""
        import mlflow.pyfunc
        import mlflow.sklearn

        run_id, path = _split_runs_uri(model_uri)
        if flavor != "sklearn":  # a forecaster may read its artifacts (a large panel's history) later
            local = self.client.download_artifacts(run_id, path, tempfile.mkdtemp(prefix="spark-automl-model-"))
            return mlflow.pyfunc.load_model(local).unwrap_python_model().fitted
        with tempfile.TemporaryDirectory() as tmp:
            return mlflow.sklearn.load_model(self.client.download_artifacts(run_id, path, tmp))

    @_safe
    def log_record(self, record: Any) -> None:
        """The run record (results, settings, what tests and explanations need): what lets
        AutoMLRun(experiment, run_id) re-attach from the store alone."""
        if self.parent_run_id is None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, os.path.basename(RECORD_PATH))
            with open(path, "wb") as fh:
                pickle.dump(record, fh, protocol=pickle.HIGHEST_PROTOCOL)
            self.client.log_artifact(self.parent_run_id, path, os.path.dirname(RECORD_PATH))

    def load_record(self, run_id: str):
        try:
            run = self.client.get_run(run_id)
        except Exception as err:  # noqa: BLE001
            raise TrackingError(redact(f"No run {run_id!r} in the tracking store {self.tracking_uri}: {err}")) from None
        if run.data.tags.get("automl") != "spark-automl":
            raise ConfigError(f"Run {run_id!r} is not a spark-automl parent run.")
        with tempfile.TemporaryDirectory() as tmp:
            try:
                local = self.client.download_artifacts(run_id, RECORD_PATH, tmp)
            except Exception as err:  # noqa: BLE001
                raise TrackingError(f"Run {run_id!r} has no run record ({RECORD_PATH}); it failed before the "
                                    f"search finished, or its record could not be logged: {err}") from None
            with open(local, "rb") as fh:
                record = pickle.load(fh)
        self.parent_run_id = run_id
        self.experiment_id = run.info.experiment_id
        self.child_run_ids = dict(record.child_run_ids)
        return record, run

    # ---- registry ---------------------------------------------------------------------
    def register(self, model_uri: str, name: str, alias: str | None, description: str | None,
                 tags: Mapping[str, str] | None):
        """A new version of `name` in the registry (registry_uri), with an alias."""
        from mlflow.exceptions import MlflowException

        run_id, path = _split_runs_uri(model_uri)
        source = f"{self.client.get_run(run_id).info.artifact_uri.rstrip('/')}/{path}"
        try:
            self.client.create_registered_model(name)
        except MlflowException as err:
            if "RESOURCE_ALREADY_EXISTS" not in str(err.error_code):
                raise
        version = self.client.create_model_version(name, source, run_id=run_id, tags=dict(tags or {}),
                                                   description=description)
        if alias:
            self.client.set_registered_model_alias(name, alias, version.version)
        return version


def _save_model(tmp: str, flavor: str, model, input_example, signature) -> tuple[str, dict[str, str]]:
    """The MLflow model directory under tmp, and the tags that say how it was serialized."""
    import mlflow.pyfunc
    import mlflow.sklearn

    from .model_code import model_code
    from .serving import LOADER_MODULE

    path = os.path.join(tmp, MODEL_DIR)
    serves_proba = flavor == "sklearn" and hasattr(model, "predict_proba")
    code = model_code(tmp, model, also=(LOADER_MODULE,) if serves_proba else ())  # the code it needs only
    common = dict(signature=signature, input_example=input_example,
                  code_paths=[code] if os.path.isdir(code) else None)  # a plain estimator needs none
    if flavor != "sklearn":
        mlflow.pyfunc.save_model(path, python_model=model, artifacts=getattr(model, "artifacts", None),
                                 pip_requirements=_pip_requirements(FORECASTING_PACKAGES), **common)
        return path, {}
    from .model_format import SKOPS, choose_format, swap_in_skops

    chosen = choose_format(model, input_example)
    # saved as a pickle, then the verified skops bytes swapped in: MLflow's skops save would dump and load
    # the model again (half of the logging time of a forest ensemble)
    with _quiet_logger("mlflow.sklearn", chosen.name == SKOPS):  # its warning about pickles: not what is kept
        mlflow.sklearn.save_model(model, path, serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
                                  pip_requirements=_pip_requirements(("skops",) if chosen.name == SKOPS else ()),
                                  **common)
    if chosen.name == SKOPS:
        swap_in_skops(path, chosen)
    if serves_proba:
        from .serving import serve_probabilities

        serve_probabilities(path)
    return path, {"automl.model_format": chosen.name, "automl.model_format_reason": chosen.why}


@contextlib.contextmanager
def _quiet_logger(name: str, quiet: bool):
    logger = logging.getLogger(name)
    level = logger.level
    if quiet:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _split_runs_uri(model_uri: str) -> tuple[str, str]:
    if not model_uri or not model_uri.startswith("runs:/"):
        raise ConfigError(f"Expected a runs:/<run_id>/<path> model URI; got {model_uri!r}.")
    run_id, _, path = model_uri[len("runs:/"):].partition("/")
    return run_id, path or MODEL_DIR


def _pip_requirements(extra: tuple[str, ...] = ()) -> list[str]:
    """Pin what the logged pipeline imports, so serving rebuilds the same environment."""
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("scikit-learn", "lightgbm", "xgboost-cpu", "pandas", "numpy", "mlflow", "cloudpickle", *extra):
        try:
            out.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:
            continue
    return out
