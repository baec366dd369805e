"""The run as a handle over MLflow: re-attached in a new process from the tracking store
alone, and never lost when the store fails while the model is logged."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, Experiment
from spark_automl.tracking import TrackingWarning

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_a_new_process_reattaches_by_run_id_and_gets_the_same_model(spark, tracking_uri, penguins, tmp_path):
    train = penguins.sample(frac=0.8, random_state=1)
    held_out = penguins.drop(train.index).drop(columns=["species"])
    cfg = AutoMLConfig(task="classification", training_data=train, label_column_name="species", iterations=4,
                       experiment_timeout_minutes=2, enable_onnx_compatible_models=True, model_explainability=True,
                       enable_stack_ensemble=False, seed=3)
    run = Experiment("reattach", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    expected = run.model.predict_proba(held_out).tolist()
    held_out.to_csv(tmp_path / "held_out.csv", index=False)
    script = textwrap.dedent(f"""
        import json, sys
        import pandas as pd
        from spark_automl import AutoMLRun, Experiment
        experiment = Experiment("reattach", tracking_uri={tracking_uri!r})
        run = AutoMLRun(experiment, {run.id!r})
        rows = pd.read_csv({str(tmp_path / "held_out.csv")!r})
        child, model = run.get_output()
        onx, check = run.export_onnx()
        importance = run.explain()
        version = run.register_model("reattached-model")
        json.dump({{"status": run.status, "best": child.iteration, "trials": len(run.results),
                   "leader": int(run.leaderboard.iloc[0]["iteration"]),
                   "proba": model.predict_proba(rows).tolist(), "onnx_ok": bool(check["passed"]),
                   "features": sorted(importance["feature"]), "version": version.version,
                   "children": len(list(run.get_children()))}}, sys.stdout)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["status"] == "Completed" and got["best"] == run.best.iteration
    assert got["trials"] == got["children"] == len(run.results)
    assert got["leader"] == int(run.leaderboard.iloc[0]["iteration"])
    np.testing.assert_allclose(np.array(got["proba"]), np.array(expected), rtol=1e-6, atol=1e-9)
    assert got["onnx_ok"] and got["features"] == sorted(run.info["feature_columns"])
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    assert client.get_model_version_by_alias("reattached-model", "champion").version == got["version"]


def test_a_store_failure_while_logging_the_model_loses_nothing(spark, tracking_uri, credit_g, monkeypatch):
    real_log_artifacts = MlflowClient.log_artifacts

    def failing(self, run_id, local_dir, artifact_path=None):
        if artifact_path == "model":
            raise OSError("injected fault: the artifact store is read-only")
        return real_log_artifacts(self, run_id, local_dir, artifact_path)

    monkeypatch.setattr(MlflowClient, "log_artifacts", failing)
    cfg = AutoMLConfig(task="classification", training_data=credit_g, label_column_name="class", iterations=3,
                       experiment_timeout_minutes=2, enable_voting_ensemble=False, enable_stack_ensemble=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = Experiment("store-fault", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    messages = [str(w.message) for w in caught if issubclass(w.category, TrackingWarning)]
    assert any("injected fault" in m and "log_model" in m for m in messages)
    assert run.model_uri is None and len(run.results) == 3  # the search and the refit model are kept
    features = credit_g.drop(columns=["class"]).head(50)
    predictions = run.model.predict(features)
    assert set(predictions) <= {"good", "bad"} and len(predictions) == 50
    client = MlflowClient(tracking_uri)
    assert client.get_run(run.id).info.status == "FINISHED"

    monkeypatch.setattr(MlflowClient, "log_artifacts", real_log_artifacts)  # the store is back
    uri = run.log_model()
    assert uri == f"runs:/{run.tracker.run_of(run.best.iteration)}/model" and run.model_uri == uri
    import mlflow.sklearn
    from spark_automl.scoring import local_model_path

    reloaded = mlflow.sklearn.load_model(local_model_path(run))
    np.testing.assert_array_equal(reloaded.predict(features), predictions)


def test_two_experiments_with_their_own_stores_in_one_session_write_where_they_were_told(spark, tmp_path,
                                                                                          penguins):
    import mlflow

    global_uri = mlflow.get_tracking_uri()
    stores = [f"sqlite:///{tmp_path}/a.db", f"sqlite:///{tmp_path}/b.db"]
    cfg = AutoMLConfig(task="classification", training_data=penguins, label_column_name="species", iterations=2,
                       allowed_models=["LogisticRegression", "LightGBM"], enable_voting_ensemble=False,
                       enable_stack_ensemble=False, model_explainability=False)
    runs = [Experiment(f"store-{i}", spark=spark, tracking_uri=uri).submit(cfg) for i, uri in enumerate(stores)]
    assert mlflow.get_tracking_uri() == global_uri  # the library set no process-global URI
    for i, (uri, run) in enumerate(zip(stores, runs)):
        client = MlflowClient(uri)
        own = client.get_experiment_by_name(f"store-{i}")
        other = client.get_experiment_by_name(f"store-{1 - i}")
        assert own is not None and other is None
        children = client.search_runs([own.experiment_id], f"tags.mlflow.parentRunId = '{run.id}'")
        assert len(children) == 2
        assert client.list_artifacts(run.tracker.run_of(run.best.iteration), "model")
