"""Trials on the driver run in worker processes that are killed, not abandoned: a timed-out trial stops
using CPU at once, a trial past its memory cap or one that kills its own process is recorded as failed,
and the search goes on; in Spark tasks, a trial that kills its Python worker fails alone. The faults are
injected as models registered at runtime (as a user could), which reach the workers and executors."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from spark_automl import AutoMLConfig, Experiment
from spark_automl.models import REGISTRY
from spark_automl.models.registry import ModelSpec

pytestmark = pytest.mark.spark


class Fault(ClassifierMixin, BaseEstimator):
    """fit() spins the CPU, allocates past any cap, or kills its own process."""

    def __init__(self, kind: str = "spin"):
        self.kind = kind

    def fit(self, X, y, sample_weight=None):
        if self.kind == "spin":
            deadline = time.time() + 600
            while time.time() < deadline:
                sum(i * i for i in range(10_000))
        elif self.kind == "memory":
            self.hog_ = np.ones(2**28)  # 2 GiB
        elif self.kind == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.kind == "cores":  # report, as a failure, how many cores a parallel loop may use here
            import joblib

            raise RuntimeError(f"n_jobs=-1 gives {joblib.effective_n_jobs(-1)} of {joblib.cpu_count()} cores")
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))


def _factory(params, task, n_jobs, seed):
    return Fault(**params)


@pytest.fixture()
def fault_model(monkeypatch):
    """register(kind): the Fault model, registered at runtime (removed again after the test)."""
    def register(kind: str) -> None:
        monkeypatch.setitem(REGISTRY._specs, "Fault|classification", ModelSpec(
            name="Fault", tasks=("classification",), factory=_factory, space={}, defaults=({"kind": kind},),
            priority=0, supports_weights=False, onnx=False))
    return register


def _run(spark, tracking_uri, penguins, fault_model, kind, **settings):
    fault_model(kind)
    frame = penguins.dropna().reset_index(drop=True)
    settings = {"iterations": 2, "backend": "local", **settings}
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="species",
                       allowed_models=["Fault", "LogisticRegression"], model_explainability=False,
                       enable_voting_ensemble=False, enable_stack_ensemble=False, enable_early_stopping=False,
                       **settings)
    return Experiment(f"isolation-{kind}", spark=spark, tracking_uri=tracking_uri).submit(cfg)


def _pid(result) -> int:
    assert result.worker.startswith("driver process (pid "), result.worker
    return int(result.worker.split("pid ")[1].rstrip(")"))


def test_a_timed_out_trial_is_killed_and_uses_no_cpu_after_its_timeout(spark, tracking_uri, penguins, fault_model):
    run = _run(spark, tracking_uri, penguins, fault_model, "spin", iteration_timeout_minutes=0.05)  # 3 s
    fault = next(r for r in run.results if r.model == "Fault")
    assert fault.status == "timed_out" and "iteration_timeout_minutes" in fault.error
    pid = _pid(fault)
    # its fit spins for 600 s; its process is gone (killed and reaped) once submit returns: no CPU from here on
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert any(r.model == "LogisticRegression" and r.status == "ok" for r in run.results)


def test_a_trial_past_its_memory_cap_fails_and_the_search_goes_on(spark, tracking_uri, penguins, fault_model):
    run = _run(spark, tracking_uri, penguins, fault_model, "memory", mem_in_mb=300)
    fault = next(r for r in run.results if r.model == "Fault")
    assert fault.status == "failed" and "MemoryError" in fault.error
    assert run.best.model == "LogisticRegression" and run.best.status == "ok"


def test_a_trial_that_kills_its_process_is_recorded_and_the_search_goes_on(spark, tracking_uri, penguins, fault_model):
    run = _run(spark, tracking_uri, penguins, fault_model, "crash")
    fault = next(r for r in run.results if r.model == "Fault")
    assert fault.status == "failed" and "WorkerDied" in fault.error and "killed" in fault.error
    assert run.best.model == "LogisticRegression"


def test_a_trial_process_keeps_every_core_for_a_learner_that_asks_for_them(spark, tracking_uri, penguins,
                                                                            fault_model):
    """Worker processes are daemons, where joblib's default backend cut n_jobs=-1 to one core: a forest
    asked to use every core (max_cores_per_iteration=-1) fitted on one."""
    import joblib

    cores = joblib.cpu_count()
    for timeout in ({}, {"iteration_timeout_minutes": 5}):  # a timed trial fits in a thread of its own
        run = _run(spark, tracking_uri, penguins, fault_model, "cores", max_cores_per_iteration=-1, **timeout)
        fault = next(r for r in run.results if r.model == "Fault")
        _pid(fault)  # it ran in a worker process
        assert f"n_jobs=-1 gives {cores} of {cores} cores" in fault.error, timeout


def test_a_spark_task_that_dies_with_its_trial_fails_that_trial_only(spark, tracking_uri, penguins, fault_model):
    """pandas_udf: the crash aborts its batch's Spark job; the batch runs again one trial per job, so the
    trials that shared the job with the culprit succeed, and the user's runtime model reached the executors."""
    run = _run(spark, tracking_uri, penguins, fault_model, "crash", backend="pandas_udf", iterations=3, max_concurrent_iterations=2)
    fault = next(r for r in run.results if r.model == "Fault")
    assert fault.status == "failed" and fault.error.startswith("WorkerDied: the trial's Spark task failed")
    others = [r for r in run.results if r.model == "LogisticRegression"]
    assert len(others) == 2 and all(r.status == "ok" and r.worker.startswith("spark task") for r in others)
