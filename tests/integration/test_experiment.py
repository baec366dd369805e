"""End to end on real data: local Spark, real MLflow (SQLite in tmp), real hyperopt, real models."""

import textwrap

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from spark_automl import AutoMLConfig, Experiment, NoTrialSucceededError, score_spark
from spark_automl.budget import MODEL_LOGGING_SECONDS
from spark_automl.scoring import local_model_path
from spark_automl.metrics import metric_names

from ..conftest import dataset_csv

pytestmark = pytest.mark.spark


def _children(tracking_uri, run):
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    return client.search_runs([run.tracker.experiment_id], f"tags.mlflow.parentRunId = '{run.id}'", max_results=1000)


@pytest.mark.slow
def test_adult_45s_reaches_auc_and_logs_every_metric(spark, tracking_uri):
    df = dataset_csv("adult.csv")
    train, test = train_test_split(df, test_size=0.2, random_state=0, stratify=df["income"])
    cfg = AutoMLConfig(task="classification", training_data=train, label_column_name="income",
                       primary_metric="AUC_weighted", experiment_timeout_minutes=0.75, max_cores_per_iteration=1,
                       enable_early_stopping=False, seed=0)
    run = Experiment("adult", spark=spark, tracking_uri=tracking_uri).submit(cfg, show_output=True)
    assert run.info["validation"].startswith("train/validation split, 10%")  # > 20k rows: Azure's 10% holdout
    _, model = run.get_output()
    proba = model.predict_proba(test.drop(columns=["income"]))
    auc = roc_auc_score(test["income"] == ">50K", proba[:, list(model.classes_).index(">50K")])
    assert auc > 0.88
    assert run.stop_reason.startswith("experiment timeout reached")  # the 45-second budget ended the search
    # what the reserve priced for the winner's refit and logging, reported beside the measured stages
    assert run.expected_timings["refit"] > 0 and "refit" in run.timings
    assert run.expected_timings["model_logging"] > MODEL_LOGGING_SECONDS  # plus the model's own bytes
    children = _children(tracking_uri, run)
    assert len(children) == len(run.results) >= 3
    expected = set(metric_names("classification"))
    for child in children:
        if child.info.status == "FINISHED":
            assert expected <= set(child.data.metrics), expected - set(child.data.metrics)
            assert child.data.tags["model_name"] and "duration_seconds" in child.data.metrics
    best = run.get_best_child()
    assert best.metrics["AUC_weighted"] == max(r.score for r in run.results if r.status == "ok")


@pytest.mark.slow
def test_diamonds_regression_r2(spark, tracking_uri):
    df = dataset_csv("diamonds.csv")
    train, test = train_test_split(df, test_size=0.2, random_state=0)
    cfg = AutoMLConfig(task="regression", training_data=train, label_column_name="price", primary_metric="r2_score",
                       experiment_timeout_minutes=0.5, max_cores_per_iteration=-1, seed=0)
    run = Experiment("diamonds", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    _, model = run.get_output()
    assert r2_score(test["price"], model.predict(test.drop(columns=["price"]))) > 0.95
    plans = {p["name"]: p["purpose"] for p in run.info["featurization"]}
    assert plans["cut"] == "categorical" and plans["carat"] == "numeric"


def test_penguins_pandas_udf_backend_register_and_score_on_spark(spark, tracking_uri, penguins):
    train, test = train_test_split(penguins, test_size=0.25, random_state=0, stratify=penguins["species"])
    before = train.copy()
    cfg = AutoMLConfig(task="classification", training_data=train, label_column_name="species",
                       iterations=8, max_concurrent_iterations=2, backend="pandas_udf", trials_per_task=2,
                       allowed_models=["LightGBM", "LogisticRegression", "RandomForest", "KNN"], seed=0)
    run = Experiment("penguins", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    pd.testing.assert_frame_equal(train, before)
    assert run.backend == "pandas_udf"
    # `iterations` bounds the search; the two ensembles come after it
    assert [r.model for r in run.results if r.origin == "ensemble"] == ["VotingEnsemble", "StackEnsemble"]
    assert sum(r.origin != "ensemble" for r in run.results) == 8
    best, model = run.get_output()
    assert accuracy_score(test["species"], model.predict(test.drop(columns=["species"]))) > 0.95
    version = run.register_model("penguins-clf", description="test", tags={"team": "qa"})
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    assert client.get_model_version_by_alias("penguins-clf", "champion").version == version.version
    features = test.drop(columns=["species"])
    loaded = mlflow.pyfunc.load_model(local_model_path("models:/penguins-clf@champion", tracking_uri))
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))
    proba = loaded.predict(features, params={"predict_method": "predict_proba"})  # the pyfunc's probabilities
    assert list(proba.columns) == [str(c) for c in model.classes_]
    np.testing.assert_allclose(proba.to_numpy(), model.predict_proba(features), atol=1e-12)
    local = local_model_path("models:/penguins-clf@champion", tracking_uri)
    assert mlflow.sklearn.load_model(local) is not None
    flavor = mlflow.models.Model.load(local).flavors["sklearn"]  # the safe format: every type is trusted
    assert flavor["serialization_format"] == "skops"
    assert "spark_automl.featurize.transformer.AutoFeaturizer" in flavor["skops_trusted_types"]
    assert client.get_run(run.tracker.child_run_ids[best.iteration]).data.tags["automl.model_format"] == "skops"
    scored = score_spark(spark, spark.createDataFrame(features), "models:/penguins-clf@champion",
                         tracking_uri=tracking_uri).toPandas()
    np.testing.assert_array_equal(scored["prediction"].to_numpy(), model.predict(features))
    other_iteration = next(r.iteration for r in run.results if r.status == "ok" and r.iteration != best.iteration)
    child, other_model = run.get_output(iteration=other_iteration)
    assert child.iteration == other_iteration and other_model.predict(features).shape == (len(features),)


def test_same_seed_same_leaderboard(spark, tracking_uri, credit_g):
    def board():
        cfg = AutoMLConfig(task="classification", training_data=credit_g, label_column_name="class", iterations=6,
                           allowed_models=["LightGBM", "LogisticRegression", "DecisionTree"], seed=7)
        run = Experiment("determinism", spark=spark, tracking_uri=tracking_uri).submit(cfg)
        return run.leaderboard[["iteration", "model", "accuracy"]]

    pd.testing.assert_frame_equal(board(), board())


def test_spark_trials_backend_tracks_every_trial(spark, tracking_uri, credit_g):
    cfg = AutoMLConfig(task="classification", training_data=credit_g, label_column_name="class", iterations=4,
                       max_concurrent_iterations=2, backend="spark_trials", primary_metric="AUC_weighted",
                       allowed_models=["LightGBM", "LogisticRegression"], seed=0)
    run = Experiment("sparktrials", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    assert run.backend == "spark_trials"
    assert sorted(r.iteration for r in run.results) == list(range(len(run.results)))
    assert 4 <= len(run.results) and run.best.score > 0.7
    assert len(_children(tracking_uri, run)) == len(run.results)


def test_failing_trials_are_recorded_and_the_experiment_goes_on(spark, tracking_uri):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    frame["y"] = np.where(frame.a + frame.b > 0, "p", "n")
    frame.loc[::7, "a"] = np.nan  # featurization='off' leaves NaN: LogisticRegression must fail
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="y", featurization="off",
                       iterations=4, allowed_models=["LightGBM", "LogisticRegression"], n_cross_validations=3)
    run = Experiment("faults", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    statuses = {r.model: r.status for r in run.results}
    assert statuses["LogisticRegression"] == "failed" and run.best.model == "LightGBM"
    failed = [c for c in _children(tracking_uri, run) if c.info.status == "FAILED"]
    assert failed and "NaN" in failed[0].data.tags["error"]


def test_all_trials_timing_out_raises_a_clear_error(spark, tracking_uri, credit_g):
    cfg = AutoMLConfig(task="classification", training_data=credit_g, label_column_name="class", iterations=2,
                       allowed_models=["RandomForest"], iteration_timeout_minutes=0.001)
    experiment = Experiment("timeouts", spark=spark, tracking_uri=tracking_uri)
    with pytest.raises(NoTrialSucceededError, match="iteration_timeout_minutes") as err:
        experiment.submit(cfg)
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    exp = client.get_experiment_by_name("timeouts")
    parents = client.search_runs([exp.experiment_id], "tags.automl = 'spark-automl'")
    assert parents[0].info.status == "FAILED" and parents[0].info.run_id == err.value.run_id
    failed = experiment.get_run(err.value.run_id)  # a failed run re-attaches: what it tried is kept
    assert failed.status == "Failed" and len(failed.leaderboard) == 2
    assert set(failed.leaderboard["status"]) == {"timed_out"}
    with pytest.raises(NoTrialSucceededError):
        failed.get_output()


def test_train_job_from_yaml(spark, tmp_path, penguins, capsys):
    """The train job in-process (spark-submit runs it in tests/integration/test_cluster.py's chain)."""
    from spark_automl.cli import main

    data = tmp_path / "penguins.csv"
    penguins.to_csv(data, index=False)
    conf = tmp_path / "job.yaml"
    conf.write_text(textwrap.dedent(f"""
        experiment_name: job-test
        tracking_uri: sqlite:///{tmp_path}/job.db
        spark: {{master: "local[1]"}}
        register: {{model_name: job-model, alias: prod}}
        automl:
          task: classification
          training_data: {data}
          label_column_name: species
          iterations: 3
          allowed_models: [LightGBM, LogisticRegression]
          model_explainability: false
    """))
    assert main(["train", "--config", str(conf)]) == 0
    out = capsys.readouterr().out
    assert "Leaderboard" in out and "models:/job-model@prod" in out
    uri = f"sqlite:///{tmp_path}/job.db"
    client = MlflowClient(uri, registry_uri=uri)
    assert str(client.get_model_version_by_alias("job-model", "prod").version) == "1"


def test_job_config_rejects_unknown_keys(tmp_path):
    from spark_automl.cli import load_job_config
    from spark_automl.errors import ConfigError

    conf = tmp_path / "bad.yaml"
    conf.write_text("experiment_name: x\nautoml: {task: classification, timeout: 3}\n")
    with pytest.raises(ConfigError, match=r"Unknown AutoMLConfig parameter\(s\) \['timeout'\]"):
        load_job_config(str(conf))
