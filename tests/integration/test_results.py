"""What an experiment leaves behind, on real data: ensembles, the model test, explanations,
charts and generated code, each checked by value in MLflow and in a fresh process."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib import image as mpimg
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, Experiment
from spark_automl.datasets import dataset_path
from spark_automl.ensemble.estimators import BaggedEstimator
from spark_automl.search.trial import OK

from ..conftest import dataset_csv

pytestmark = pytest.mark.spark
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("results")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(path)
        yield path, f"sqlite:///{path}/mlflow.db"


@pytest.fixture(scope="module")
def credit_run(spark, store):
    """credit_g from a path, with a 20% test split: every artifact of the best child is made."""
    _, uri = store
    cfg = AutoMLConfig(task="classification", training_data=str(dataset_path("credit_g")), label_column_name="class",
                       primary_metric="AUC_weighted", iterations=6, test_size=0.2, max_concurrent_iterations=2,
                       allowed_models=["LightGBM", "LogisticRegression", "RandomForest", "XGBoostClassifier"], seed=3)
    return Experiment("results-credit", spark=spark, tracking_uri=uri).submit(cfg)


def _client(store):
    return MlflowClient(store[1], registry_uri=store[1])


def _artifact(store, run_id: str, path: str) -> bytes:
    local = _client(store).download_artifacts(run_id, path, str(store[0] / "dl"))
    with open(local, "rb") as fh:
        return fh.read()


def _singles(run):
    return [r for r in run.results if r.status == OK and r.ensemble is None]


def test_the_parent_run_records_its_training_data_as_a_dataset_input(credit_run, store):
    inputs = _client(store).get_run(credit_run.id).inputs.dataset_inputs
    assert [(i.dataset.name, [t.value for t in i.tags]) for i in inputs] == [("credit_g", ["training"])]
    dataset = inputs[0].dataset
    assert json.loads(dataset.source) == {"uri": str(dataset_path("credit_g"))} and dataset.source_type == "local"
    columns = [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]]
    assert columns == list(pd.read_csv(dataset_path("credit_g"), nrows=1).columns)
    assert json.loads(dataset.profile)["targets"] == "class"


def test_ensembles_are_child_runs_and_beat_the_best_single_model(credit_run, store):
    voting = next(r for r in credit_run.results if r.model == "VotingEnsemble")
    stack = next(r for r in credit_run.results if r.model == "StackEnsemble")
    assert abs(sum(voting.params["ensemble_weights"]) - 1.0) < 1e-5
    # strictly better, with at least two members: a one-model "ensemble" would tie by construction
    assert len(voting.ensemble.iterations) >= 2 and voting.score > max(r.score for r in _singles(credit_run))
    assert voting.iteration == len(_singles(credit_run)) and stack.iteration == voting.iteration + 1
    child = _client(store).get_run(credit_run.tracker.child_run_ids[voting.iteration])
    assert child.data.tags["model_name"] == "VotingEnsemble"
    assert json.loads(child.data.params["param_ensembled_iterations"]) == list(voting.ensemble.iterations)
    _, model = credit_run.get_output(stack.iteration)
    proba = model.predict_proba(credit_run.info["test_frame"].drop(columns=["class"]))
    assert proba.shape[1] == 2 and np.allclose(proba.sum(axis=1), 1.0)
    text = credit_run.print_model(voting.iteration)
    for it, w in zip(voting.ensemble.iterations, voting.ensemble.weights):
        assert f"member iteration {it}:" in text and f"weight={w:.4f}" in text


def test_model_test_logs_metrics_and_predictions(credit_run, store):
    assert credit_run.test_run_id is not None  # made at the end of submit (test_size=0.2)
    test_child = _client(store).get_run(credit_run.test_run_id)
    assert 0.6 < test_child.data.metrics["AUC_weighted"] <= 1.0
    preds = pd.read_csv(io.BytesIO(_artifact(store, credit_run.test_run_id, "predictions/predictions.csv")))
    assert len(preds) == 200 and {"actual", "predicted", "proba_good", "proba_bad"} <= set(preds.columns)
    # Azure's table metrics as data, counted from the same predictions
    cm = json.loads(_artifact(store, credit_run.test_run_id, "test/metrics/confusion_matrix.json"))
    labels = cm["data"]["class_labels"]
    expected = [[int(((preds["actual"] == a) & (preds["predicted"] == p)).sum()) for p in labels] for a in labels]
    assert cm["schema_type"] == "confusion_matrix" and cm["data"]["matrix"] == expected
    report = json.loads(_artifact(store, credit_run.test_run_id, "test/metrics/classification_report.json"))
    assert report["data"]["accuracy"] == pytest.approx(test_child.data.metrics["accuracy"])
    # run.test on any child returns the same kind of table and metrics
    first = _singles(credit_run)[0]
    table, metrics = credit_run.test(first.iteration, credit_run.info["test_frame"], log=False)
    accuracy = float((table["actual"] == table["predicted"]).mean())
    assert metrics["accuracy"] == pytest.approx(accuracy)


def test_explanations_rank_raw_columns(credit_run, store):
    importance = credit_run.explain(log=False)
    assert set(importance["feature"]) == set(credit_run.info["feature_columns"])
    assert importance["importance"].sum() == pytest.approx(1.0)
    assert importance.iloc[0]["feature"] in {"checking_status", "duration", "credit_amount", "age", "credit_history"}
    best_run = credit_run.tracker.child_run_ids[credit_run.best.iteration]
    table = pd.read_csv(io.BytesIO(_artifact(store, best_run, "explanations/feature_importance.csv")))
    assert len(table) == len(credit_run.info["feature_columns"])
    assert _artifact(store, best_run, "explanations/feature_importance.png").startswith(PNG)


def test_charts_are_valid_pngs_on_the_best_and_ensemble_runs(credit_run, store):
    names = {"confusion_matrix.png", "roc_curve.png", "precision_recall_curve.png", "calibration_curve.png",
             "lift_curve.png", "cumulative_gains.png"}
    ensembles = [r.iteration for r in credit_run.results if r.ensemble is not None]
    for iteration in {credit_run.best.iteration, *ensembles}:
        run_id = credit_run.tracker.child_run_ids[iteration]
        listed = {os.path.basename(f.path) for f in _client(store).list_artifacts(run_id, "charts")}
        assert names <= listed and {"confusion_matrix.json", "accuracy_table.json"} <= listed
        png = _artifact(store, run_id, "charts/roc_curve.png")
        assert png.startswith(PNG) and mpimg.imread(io.BytesIO(png)).shape[0] > 100


@pytest.mark.slow
def test_generated_code_reproduces_the_logged_score(credit_run, store, tmp_path):
    best = credit_run.best
    single = max(_singles(credit_run), key=lambda r: r.score)
    files = credit_run.generate_code(best.iteration, log=False)  # the best, as a user runs it: its own process
    script = tmp_path / f"train_{best.iteration}.py"
    script.write_text(files["training_script.py"])
    assert files["training_notebook.py"].startswith("# Databricks notebook source")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(l for l in out.stdout.splitlines() if l.startswith("validation AUC_weighted"))
    assert float(line.split("=")[1].split()[0]) == pytest.approx(best.score, abs=1e-6)
    namespace = {"__name__": "generated"}  # the best single model, in this process and session
    exec(compile(credit_run.generate_code(single.iteration, log=False)["training_script.py"], "train.py", "exec"),
         namespace)  # noqa: S102 - the code under test
    score, model = namespace["main"]()
    assert score == pytest.approx(single.score, abs=1e-6)
    # the script's final model is the run's: a member small enough is its fold models averaged (bagged)
    assert credit_run.info["bag_folds"] == 10 and single.model_bytes * 10 < 16 * 2**20 and single.model_objects < 4000
    _, logged = credit_run.get_output(iteration=single.iteration)
    assert isinstance(model.named_steps["model"], BaggedEstimator)
    assert isinstance(logged.named_steps["model"], BaggedEstimator)
    rows = dataset_csv("credit_g").drop(columns=["class"]).head(200)
    np.testing.assert_allclose(model.predict_proba(rows), logged.predict_proba(rows), rtol=1e-6, atol=1e-9)
    assert "10 fold models averaged" in credit_run.leaderboard.set_index("iteration").loc[single.iteration,
                                                                                        "final_fit"]
    best_run = credit_run.tracker.child_run_ids[best.iteration]
    assert b"def build_iteration_" in _artifact(store, best_run, "generated_code/training_script.py")


@pytest.mark.slow
def test_voting_beats_best_single_on_a_regression_dataset(spark, store):
    df = dataset_csv("ames_housing")  # the 1200 rows that .sample(1200, random_state=0) drew, in that order
    cfg = AutoMLConfig(task="regression", training_data=df, label_column_name="price",
                       primary_metric="r2_score", iterations=6, max_concurrent_iterations=2, seed=0,
                       allowed_models=["LightGBM", "ElasticNet", "RandomForest", "XGBoostRegressor"],
                       model_explainability=False)
    run = Experiment("results-ames", spark=spark, tracking_uri=store[1]).submit(cfg)
    voting = next(r for r in run.results if r.model == "VotingEnsemble")
    assert abs(sum(voting.params["ensemble_weights"]) - 1.0) < 1e-5
    assert len(voting.ensemble.iterations) >= 2 and voting.score > max(r.score for r in _singles(run))
    best_run = run.tracker.child_run_ids[run.best.iteration]
    listed = {os.path.basename(f.path) for f in _client(store).list_artifacts(best_run, "charts")}
    assert {"residuals_histogram.png", "predicted_vs_true.png", "residuals.json", "predicted_true.json"} <= listed



def test_a_search_that_ends_early_spends_its_time_bagging_members_over_the_caps(spark, store, penguins, monkeypatch):
    from spark_automl import budget

    monkeypatch.setattr(budget, "BAG_MAX_OBJECTS", 0)  # every member is over the caps: only spare time bags
    cfg = AutoMLConfig(task="classification", training_data=penguins, label_column_name="species", iterations=4,
                       experiment_timeout_minutes=1.0, allowed_models=["LightGBM", "LogisticRegression"], seed=0,
                       model_explainability=False)
    run = Experiment("results-spare", spark=spark, tracking_uri=store[1]).submit(cfg)
    members = run.best.ensemble.iterations if run.best.ensemble else (run.best.iteration,)
    _, model = run.get_output()
    final = model.named_steps["model"]
    fitted = final.members if run.best.ensemble else [final]
    assert all(isinstance(m, BaggedEstimator) and len(m.members) == 10 for m in fitted)  # 344 rows: 10 folds
    assert run.info["bagged"] == {it: True for it in members}
    assert "BAGGED = {" in run.generate_code(log=False)["training_script.py"]


@pytest.mark.extra("onnx")
def test_onnx_mode_exports_a_model_that_matches_python(spark, store, penguins):
    cfg = AutoMLConfig(task="classification", training_data=penguins, label_column_name="species",
                       iterations=4, enable_onnx_compatible_models=True, max_concurrent_iterations=2, seed=0,
                       model_explainability=False)
    run = Experiment("results-onnx", spark=spark, tracking_uri=store[1]).submit(cfg)
    assert not any(r.model == "StackEnsemble" for r in run.results)  # stacking is off in ONNX mode
    assert {"GradientBoosting", "KNN"}.isdisjoint(r.model for r in run.results)
    best_run = run.tracker.child_run_ids[run.best.iteration]
    check = json.loads(_artifact(store, best_run, "onnx/onnx_check.json"))
    assert check["passed"] and check["label_mismatches"] == 0 and check["max_abs_diff"] <= 1e-4
    import onnx
    import onnxruntime as ort

    from spark_automl.export.onnx import onnx_inputs

    model = onnx.load_from_string(_artifact(store, best_run, "onnx/model.onnx"))
    rows = penguins.drop(columns=["species"]).head(50)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], onnx_inputs(rows, model))
    _, python_model = run.get_output()
    np.testing.assert_allclose(proba, python_model.predict_proba(rows), atol=1e-4)
    assert list(label.ravel()) == list(python_model.predict(rows))
