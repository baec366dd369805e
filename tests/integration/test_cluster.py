"""On a real multi-process Spark: spark-submit with local-cluster[2,1,1024] starts two executor
JVMs with their own Python workers, so a trial that ran there did not lean on driver state."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

pytestmark = [pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
CLUSTER = "local-cluster[2,1,1024]"


def test_spark_submit_job_on_a_multi_process_cluster_keeps_its_master_and_trains_on_executors(tmp_path, penguins):
    data = tmp_path / "penguins.csv"
    penguins.to_csv(data, index=False)
    uri = f"sqlite:///{tmp_path}/cluster.db"
    conf = tmp_path / "job.yaml"
    conf.write_text(textwrap.dedent(f"""
        experiment_name: cluster-job
        tracking_uri: {uri}
        spark: {{master: "local[1]"}}   # spark-submit's --master must win over this
        register: {{model_name: cluster-model, alias: champion}}
        automl:
          task: classification
          training_data: {data}
          label_column_name: species
          iterations: 4
          max_concurrent_iterations: 2
          allowed_models: [LightGBM, LogisticRegression, ExtremeRandomTrees]
          model_explainability: false
    """))
    submit = Path(sys.executable).with_name("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    out = subprocess.run([str(submit), "--master", CLUSTER, "--conf", "spark.ui.enabled=false",
                          "--conf", "spark.sql.execution.arrow.pyspark.enabled=true",
                          "jobs/train.py", "--config", str(conf)],
                         capture_output=True, text=True, timeout=600, cwd=REPO, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    assert f"Spark master: {CLUSTER}" in out.stdout
    assert "pandas_udf backend (the session has executors" in out.stdout
    client = MlflowClient(uri, registry_uri=uri)
    experiment = client.get_experiment_by_name("cluster-job")
    children = client.search_runs([experiment.experiment_id], "tags.origin != 'ensemble' and tags.iteration != ''")
    trials = [c for c in children if c.data.tags.get("origin") in ("portfolio", "tpe")]
    assert len(trials) == 4
    workers = {c.data.tags["worker"] for c in trials}
    assert all(w.startswith("spark task") for w in workers)
    pids = {w.split("pid ")[1].rstrip(")") for w in workers}
    assert len(pids) == 2  # two executors, two Python workers
    version = client.get_model_version_by_alias("cluster-model", "champion")
    assert str(version.version) == "1"


def test_backends_featurization_forecasting_and_spark_scoring_on_a_multi_process_cluster(tmp_path):
    import json

    submit = Path(sys.executable).with_name("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    out = subprocess.run([str(submit), "--master", CLUSTER, "--conf", "spark.ui.enabled=false",
                          "--conf", "spark.sql.execution.arrow.pyspark.enabled=true",
                          "tests/integration/cluster_checks.py", f"sqlite:///{tmp_path}/checks.db"],
                         capture_output=True, text=True, timeout=900, cwd=REPO, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["master"] == CLUSTER
    assert found["tabular_backend"] == "spark_trials" and found["tabular_ok"] == 4
    assert found["tabular_workers"] and all(w.startswith("spark task") for w in found["tabular_workers"])
    assert found["score_spark_agrees"]
    assert found["forecast_backend"] == "pandas_udf" and found["forecast_in_tasks"] and found["forecast_ok"] == 4
    assert found["forecast_rows"] == 12 * 6 and found["forecast_spark_agrees"]
