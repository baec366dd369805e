"""Tracking that fails fast, never prints a credential and survives concurrent starts; job configs
checked in full before any work."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, ConfigError, Experiment
from spark_automl.cli import load_job_config
from spark_automl.tracking import CANCEL_TAG, Tracker, TrackingError, check_uri, probe, redact

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- URIs ---------------------------------------------------------------------------------------

def test_redact_masks_the_password_and_keeps_the_rest():
    assert redact("http://alice:s3cr3t@host:5000/x") == "http://alice:***@host:5000/x"
    assert redact("failed: postgresql://u:p%40ss@db/mlflow and more") == "failed: postgresql://u:***@db/mlflow and more"
    assert redact("sqlite:///mlflow.db") == "sqlite:///mlflow.db"


@pytest.mark.parametrize("uri", ["sqlite:///mlflow.db", "file:///tmp/mlruns", "/tmp/mlruns", "mlruns",
                                 "http://host:5000", "https://u:p@host", "databricks", "postgresql://u:p@db/m"])
def test_mlflow_uris_are_accepted(uri):
    check_uri("tracking_uri", uri)


def test_an_unknown_scheme_is_refused_when_the_experiment_is_made_without_its_password():
    with pytest.raises(ConfigError, match=r"'tracking_uri' parameter 'foo://u:\*\*\*@bar' has the scheme 'foo'"):
        Experiment("x", tracking_uri="foo://u:pw@bar")
    with pytest.raises(ConfigError, match="registry_uri"):
        Experiment("x", registry_uri="")


def test_a_tracking_server_that_does_not_answer_fails_its_probe_without_its_password():
    port = _free_port()
    with pytest.raises(TrackingError, match=r"http://alice:\*\*\*@127\.0\.0\.1:\d+ did not answer") as refused:
        probe(f"http://alice:s3cr3t@127.0.0.1:{port}")  # nothing listens: refused at once
    assert "s3cr3t" not in str(refused.value)
    with socket.socket() as silent:  # accepts connections, never answers: the timeout
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        with pytest.raises(TrackingError, match="did not answer within 1s"):
            probe(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=1.0)


# ---- a real MLflow server with credentials in the URI --------------------------------------------

def _start_server(root: Path) -> tuple[subprocess.Popen, int]:
    """A real `mlflow server` on a free port, answering /health."""
    port = _free_port()
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    proc = subprocess.Popen([str(mlflow_bin), "server", "--backend-store-uri", f"sqlite:///{root}/server.db",
                             "--default-artifact-root", str(root / "artifacts"), "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # its own process group: the server's workers die with it
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            probe(f"http://127.0.0.1:{port}", timeout=1.0)
            return proc, port
        except TrackingError:
            time.sleep(0.5)
    proc.kill()
    pytest.fail("mlflow server did not start")


def _stop(proc: subprocess.Popen) -> None:
    import os
    import signal

    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    proc, port = _start_server(tmp_path_factory.mktemp("server"))
    yield port
    _stop(proc)


@pytest.mark.spark
@pytest.mark.slow
def test_a_tracking_server_that_dies_mid_run_costs_one_bounded_wait(spark, tmp_path, monkeypatch):
    from spark_automl import tracking
    from spark_automl.progress import Progress

    proc, port = _start_server(tmp_path)
    original, killed = Progress.trials, []

    def trials_then_kill_the_server(self, batch):
        original(self, batch)
        if not killed:  # after the first trial is logged
            _stop(proc)
            killed.append(time.time())

    monkeypatch.setattr(Progress, "trials", trials_then_kill_the_server)
    monkeypatch.setattr(tracking, "CALL_SECONDS", 3.0)
    frame = pd.DataFrame({"x": range(90), "y": ["a", "b", "c"] * 30})
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="y", iterations=5,
                       experiment_timeout_minutes=1, allowed_models=["LogisticRegression", "DecisionTree"],
                       enable_stack_ensemble=False, model_explainability=False, seed=0)
    with pytest.warns(tracking.TrackingWarning, match="did not return within 3s"):
        run = Experiment("dies", spark=spark, tracking_uri=f"http://127.0.0.1:{port}").submit(cfg)
    assert killed and run.model is not None and len(run.results) >= 5  # the finished search is kept
    timed_out = [f for f in run.tracker.failures if "did not return" in f]
    skipped = [f for f in run.tracker.failures if f.startswith("skipped")]
    # one bounded wait, then every later write is skipped at once (MLflow's retries would stall each for minutes)
    assert run.tracker.unreachable and len(timed_out) == 1 and len(skipped) >= 3
    assert run.log_model() is None  # an explicit retry tries again, and fails in bounded time: no server


@pytest.mark.spark
@pytest.mark.slow
def _slow_upload(monkeypatch, seconds: float) -> None:
    real = MlflowClient.log_artifacts

    def slow(self, run_id, local_dir, artifact_path=None):
        time.sleep(seconds)  # fault injection: a store that takes its time over the bytes
        return real(self, run_id, local_dir, artifact_path)

    monkeypatch.setattr(MlflowClient, "log_artifacts", slow)


def test_the_model_upload_may_take_longer_the_larger_the_model(tmp_path, monkeypatch):
    """Saving the model is local work outside the store's bound, and the upload's bound grows with the
    bytes: a 120 s run whose forest ensemble took more than CALL_SECONDS to log lost its model to
    'the store is unreachable'. A small model's upload that stalls as long still counts as a dead store."""
    import numpy as np
    from sklearn.linear_model import LinearRegression

    from spark_automl import tracking

    monkeypatch.setattr(tracking, "CALL_SECONDS", 0.5)
    monkeypatch.setattr(tracking, "UPLOAD_SECONDS_PER_MB", 0.1)
    X = pd.DataFrame({"a": np.arange(20.0)})
    small = LinearRegression().fit(X, X["a"])
    large = LinearRegression().fit(X, X["a"])
    large.ballast_ = np.random.default_rng(0).random(4_000_000)  # ~30 MB saved: a bound of 0.5 + ~3 s
    _slow_upload(monkeypatch, 1.5)
    for model, logged in ((large, True), (small, False)):
        tracker = tracking.Tracker("upload", f"sqlite:///{tmp_path}/m.db")
        run_id = tracker.start_parent("p", {}, {})
        with pytest.warns(tracking.TrackingWarning) if not logged else _no_warning():
            uri = tracker.log_model("sklearn", model, run_id, X.head(2), None)
        assert (uri == f"runs:/{run_id}/model") is logged
        assert tracker.unreachable is not logged
        names = {f.path for f in tracker.client.list_artifacts(run_id)} if logged else set()
        assert ("model" in names) is logged


@contextlib.contextmanager
def _no_warning():
    import warnings

    from spark_automl.tracking import TrackingWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", TrackingWarning)
        yield


def test_a_run_on_a_server_with_credentials_in_its_uri_prints_no_password(spark, mlflow_server, capfd):
    uri = f"http://alice:s3cr3t@127.0.0.1:{mlflow_server}"
    frame = pd.DataFrame({"x": range(60), "y": ["a", "b", "c"] * 20})
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="y", iterations=2,
                       allowed_models=["LogisticRegression"], enable_voting_ensemble=False,
                       enable_stack_ensemble=False, model_explainability=False, seed=0)
    run = Experiment("credentials", spark=spark, tracking_uri=uri).submit(cfg, show_output=True)
    out, err = capfd.readouterr()
    assert run.model_uri is not None and "Best: iteration" in out  # it ran, and logged, on that server
    assert "s3cr3t" not in out and "s3cr3t" not in err
    runs = MlflowClient(f"http://127.0.0.1:{mlflow_server}").search_runs([run.tracker.experiment_id])
    assert len(runs) >= 3  # parent + two trials


# ---- concurrency -------------------------------------------------------------------------------------

RACE = textwrap.dedent("""
    import sys
    from spark_automl.tracking import Tracker
    tracker = Tracker("race", sys.argv[1])
    run_id = tracker.start_parent("p", {"k": 1}, {"task": "classification"})
    tracker.close_parent("FINISHED", {"m": 1.0}, {})
    print("OK" if run_id and not tracker.failures else "FAILED " + "; ".join(tracker.failures))
""")


def test_three_processes_start_experiments_on_a_fresh_store_at_once(tmp_path):
    uri = f"sqlite:///{tmp_path}/fresh.db"
    procs = [subprocess.Popen([sys.executable, "-c", RACE, uri], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=REPO) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [o[0].strip().splitlines()[-1] for o in outs] == ["OK"] * 3, [o[1][-2000:] for o in outs]
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("race")
    assert len(client.search_runs([experiment.experiment_id])) == 3


def test_a_sqlite_stores_artifacts_live_beside_its_database_whatever_the_working_directory(tmp_path, monkeypatch):
    store, elsewhere = tmp_path / "store", tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # MLflow's own default would put ./mlruns here
    uri = f"sqlite:///{store}/mlflow.db"
    first, second = Tracker("first", tracking_uri=uri), Tracker("second", tracking_uri=uri)
    first.open_experiment(), second.open_experiment()
    client = MlflowClient(uri)
    run = client.create_run(first.experiment_id)
    client.log_text(run.info.run_id, "model bytes", "model/weights.txt")
    assert [p.read_text() for p in (store / "mlruns").rglob("weights.txt")] == ["model bytes"]
    assert list(elsewhere.iterdir()) == []
    locations = {client.get_experiment(t.experiment_id).artifact_location for t in (first, second)}
    assert len(locations) == 2 and all(Path(loc).parent == store / "mlruns" for loc in locations)
    again = Tracker("first", tracking_uri=uri)  # an existing experiment keeps its own location
    assert again.open_experiment() == first.experiment_id


def test_a_cancel_request_reaches_the_watcher_once_and_a_stale_one_is_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARK_AUTOML_CANCEL_POLL_SECONDS", "0.2")
    driver = Tracker("watched", tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    run_id = driver.start_parent("parent", params={}, tags={})
    driver.request_cancel(run_id)  # left from an earlier attempt of a run now resumed
    calls = []
    stop = driver.watch_cancel(lambda: calls.append(time.time()))
    try:
        assert CANCEL_TAG not in driver.client.get_run(run_id).data.tags
        time.sleep(1.0)
        assert calls == []
        elsewhere = Tracker("watched", tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")  # another process's handle
        elsewhere.request_cancel(run_id)
        for _ in range(100):
            if calls:
                break
            time.sleep(0.1)
        time.sleep(0.6)
        assert len(calls) == 1
    finally:
        stop()


# ---- job configs ---------------------------------------------------------------------------------------

GOOD = {"experiment_name": "e", "tracking_uri": "sqlite:///mlflow.db", "spark": {"master": "local[1]"},
        "register": {"model_name": "m"}, "automl": {"task": "classification", "label_column_name": "y"}}
def test_a_good_job_config_loads(tmp_path):
    import yaml

    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    job = load_job_config(str(path))
    assert job.spark == {"master": "local[1]"} and job.register == {"model_name": "m"} and job.show_output
