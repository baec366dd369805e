"""On a real multi-process Spark: spark-submit with local-cluster[2,1,1024] starts two executor
JVMs with their own Python workers, so a trial that ran there did not lean on driver state."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

pytestmark = [pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
CLUSTER = "local-cluster[2,1,1024]"


def _submit(script: str, config: Path, master: str, cwd: Path) -> subprocess.CompletedProcess:
    submit = Path(sys.executable).with_name("spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    out = subprocess.run([str(submit), "--master", master, "--conf", "spark.ui.enabled=false",
                          "--conf", "spark.sql.execution.arrow.pyspark.enabled=true",
                          str(REPO / "jobs" / script), "--config", str(config)],
                         capture_output=True, text=True, timeout=600, cwd=cwd, env=env)
    assert out.returncode == 0, f"{script}: {out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


def _in_process(job: str, config: Path, cwd: Path, monkeypatch, capsys) -> str:
    """A job through the same entry point in this test's session (no JVM start: each spark-submit costs
    ~20 s here, and the route itself is what train and score check)."""
    from spark_automl.cli import main

    monkeypatch.chdir(cwd)  # the shipped YAMLs name ./mlflow.db, ./scores, ./forecasts
    capsys.readouterr()
    assert main([job, "--config", str(config)]) == 0
    return capsys.readouterr().out


def test_the_shipped_jobs_chain_through_spark_submit_train_on_a_cluster_promote_score_forecast(
        tmp_path, spark, monkeypatch, capsys):
    """The shipped conf/base YAMLs, shortened by a conf/local overlay, run as a workflow would: train on
    two executor processes (spark-submit's --master wins over the YAML's local[2]) and batch-score, each
    as its own spark-submit; promote, train a forecaster and publish its forecast through the same entry
    point in this process."""
    conf = tmp_path / "conf"
    shutil.copytree(REPO / "conf" / "base", conf / "base")
    (conf / "local").mkdir()
    (conf / "local" / "train.yaml").write_text(textwrap.dedent("""
        automl: {iterations: 2, max_concurrent_iterations: 2, model_explainability: false,
                 allowed_models: [LightGBM, LogisticRegression]}
    """))
    (conf / "local" / "train_forecaster.yaml").write_text(
        "automl: {iterations: 2, allowed_models: [SeasonalNaive, ExponentialSmoothing], model_explainability: false}\n")
    # in this process Spark resolves a relative output against the JVM's directory, not the test's
    (conf / "local" / "forecast.yaml").write_text(f"output: {tmp_path / 'forecasts' / 'airline'}\n")
    trained = _submit("train.py", conf / "base" / "train.yaml", CLUSTER, tmp_path)
    assert f"Spark master: {CLUSTER}" in trained.stdout and "local overlay" in trained.stdout
    assert "pandas_udf backend (the session has executors" in trained.stdout
    uri = f"sqlite:///{tmp_path}/mlflow.db"  # the shipped tracking_uri, relative to the job's directory
    client = MlflowClient(uri, registry_uri=uri)
    experiment = client.get_experiment_by_name("credit-g-automl")
    children = client.search_runs([experiment.experiment_id], "tags.origin != 'ensemble' and tags.iteration != ''")
    trials = [c for c in children if c.data.tags.get("origin") in ("portfolio", "tpe")]
    assert len(trials) == 2
    workers = {c.data.tags["worker"] for c in trials}
    assert all(w.startswith("spark task") for w in workers)
    assert len({w.split("pid ")[1].rstrip(")") for w in workers}) == 2  # two executors, two Python workers
    assert str(client.get_model_version_by_alias("credit-g-classifier", "challenger").version) == "1"

    promoted = _in_process("promote", conf / "base" / "promote.yaml", tmp_path, monkeypatch, capsys)
    assert "PROMOTED (no version held the alias 'champion')" in promoted
    assert str(client.get_model_version_by_alias("credit-g-classifier", "champion").version) == "1"
    decision = client.search_runs([client.get_experiment_by_name("credit-g-promotions").experiment_id])[0]
    assert decision.data.tags["automl.promotion"] == "promoted" and 0.5 < decision.data.metrics["challenger_score"] <= 1

    _submit("score.py", conf / "base" / "score.yaml", "local[1]", tmp_path)
    scores = pd.read_parquet(tmp_path / "scores" / "credit_g")
    assert len(scores) == 1000 and set(scores["prediction"]) <= {"good", "bad"}
    np.testing.assert_allclose(scores[["probability_bad", "probability_good"]].sum(axis=1), 1.0, atol=1e-9)

    _in_process("train", conf / "base" / "train_forecaster.yaml", tmp_path, monkeypatch, capsys)
    published = _in_process("forecast", conf / "base" / "forecast.yaml", tmp_path, monkeypatch, capsys)
    assert "the next horizon of every series" in published
    forecasts = pd.read_parquet(tmp_path / "forecasts" / "airline").sort_values("month")
    assert list(pd.to_datetime(forecasts["month"]).dt.strftime("%Y-%m")) == [f"1961-{m:02d}" for m in range(1, 13)]
    assert (forecasts["prediction_lower_95"] <= forecasts["prediction"]).all()
    assert (forecasts["prediction"] <= forecasts["prediction_upper_95"]).all()


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
    assert found["tabular_backend"] == "spark_trials" and found["tabular_ok"] == 2
    assert found["tabular_workers"] and all(w.startswith("spark task") for w in found["tabular_workers"])
    assert found["score_spark_agrees"]
    assert found["large_final_fit"].startswith(f"xgboost.spark, all {found['large_train_rows']} rows")
    assert 750 < found["large_train_rows"] < 850 and found["large_train_rows"] + found["large_test_rows"] == 1000
    assert found["forecast_backend"] == "pandas_udf" and found["forecast_in_tasks"] and found["forecast_ok"] == 2
    assert found["forecast_series"] == 12 and found["forecast_large"]
    assert found["forecast_rows"] == 12 * 6 and found["forecast_spark_agrees"]  # history shipped to executors


WHEEL_JOB = '''
import json, sys
import pandas as pd
import spark_automl
from spark_automl import AutoMLConfig, Experiment
from spark_automl.spark_utils import default_session

spark = default_session("wheel-route")
data = spark.createDataFrame(pd.read_csv(sys.argv[2]))
cfg = AutoMLConfig(task="classification", training_data=data, label_column_name="species", iterations=2,
                   backend="pandas_udf", allowed_models=["LogisticRegression"], model_explainability=False,
                   enable_voting_ensemble=False, enable_stack_ensemble=False, seed=0)
run = Experiment("wheel-route", spark=spark, tracking_uri=sys.argv[1]).submit(cfg)
where = spark.range(2).repartition(2).rdd.mapPartitions(lambda _: [__import__("spark_automl").__file__]).collect()
print(json.dumps({"driver": spark_automl.__file__, "executors": where, "model_uri": run.model_uri,
                  "workers": sorted({r.worker.split(" (")[0] for r in run.results}),
                  "ok": sum(r.status == "ok" for r in run.results)}))
'''


def test_library_reaches_executors_as_a_wheel_through_py_files(tmp_path, penguins):
    """The documented spark-submit route: dependencies on the cluster's Python, the library
    itself only as --py-files <the wheel, renamed .zip>. The interpreter here sees the dependencies but not the
    library, so any import of it on the driver or an executor comes from the wheel."""
    import json

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(REPO)], check=True, capture_output=True, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("spark_automl-*.whl"))
    shipped = tmp_path / "spark_automl.zip"  # Spark puts only .zip/.egg/.jar py-files on the executors' path
    shipped.write_bytes(wheel.read_bytes())
    env_dir = tmp_path / "env"  # a Python with the dependencies but without spark_automl
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    site = next((env_dir / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # a plain path: its .pth
    python = env_dir / "bin" / "python"                                              # (the editable install) not run
    probe = subprocess.run([str(python), "-c", "import spark_automl"], capture_output=True, text=True, cwd=tmp_path)
    assert probe.returncode != 0 and "No module named 'spark_automl'" in probe.stderr
    (tmp_path / "job.py").write_text(WHEEL_JOB)
    data = tmp_path / "penguins.csv"
    penguins.to_csv(data, index=False)
    env = {**os.environ, "PYSPARK_PYTHON": str(python), "PYSPARK_DRIVER_PYTHON": str(python)}
    env.pop("PYTHONPATH", None)
    submit = Path(sys.executable).with_name("spark-submit")
    out = subprocess.run([str(submit), "--master", CLUSTER, "--conf", "spark.ui.enabled=false",
                          "--conf", "spark.sql.execution.arrow.pyspark.enabled=true", "--py-files", str(shipped),
                          str(tmp_path / "job.py"), f"sqlite:///{tmp_path}/wheel.db", str(data)],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr[-4000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert "spark_automl.zip" in found["driver"], found
    assert all("spark_automl.zip" in p for p in found["executors"]), found
    assert found["ok"] == 2 and all(w.startswith("spark task") for w in found["workers"])
    assert found["model_uri"]  # logged: the model's code_paths came out of the wheel
    client = MlflowClient(f"sqlite:///{tmp_path}/wheel.db")
    run_id = found["model_uri"].split("/")[1]
    code = {f.path for f in client.list_artifacts(run_id, "model/code/spark_automl")}
    assert {"model/code/spark_automl/serving.py", "model/code/spark_automl/featurize"} <= code
    assert "model/code/spark_automl/tracking.py" not in code  # only the code the model needs
    # the logged model alone serves, labels and probabilities, where the library is not installed
    local = client.download_artifacts(run_id, "model", str(tmp_path / "served"))
    serve = ("import sys, mlflow.pyfunc, pandas as pd; m = mlflow.pyfunc.load_model(sys.argv[1]); "
             "rows = pd.read_csv(sys.argv[2]).drop(columns=['species']).head(5); "
             "print(list(m.predict(rows))); print(m.predict(rows, params={'predict_method': 'predict_proba'}).shape)")
    served = subprocess.run([str(python), "-c", serve, local, str(data)], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert served.returncode == 0, served.stderr[-3000:]
    labels, shape = served.stdout.strip().splitlines()[-2:]
    assert set(eval(labels)) <= set(penguins["species"]) and shape == "(5, 3)"
