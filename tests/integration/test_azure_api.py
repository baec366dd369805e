"""The seed article's code (Azure's "Set up AutoML training with the Python SDK v1", copied below) with
only its import lines changed and its data swapped for bundled datasets; then the run API of the reference, cancel from
another thread, a custom primary metric and cv_splits_indices, each checked by value."""

from __future__ import annotations

import functools
import json
import logging
import os
import threading

import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

# ---- the article's imports, changed ------------------------------------------------------------
from spark_automl import AutoMLConfig, AutoMLRun as Run, Experiment, Workspace
from spark_automl import Dataset, ModelProxy, RunDetails
from spark_automl import CustomMetric, cli
from spark_automl.datasets import dataset_path
from spark_automl.search.stopping import CANCELED_REASON
from spark_automl.search.trial import OK

pytestmark = pytest.mark.spark  # cancel runs on both Spark lanes (job tags); the rest is marked slow


@pytest.fixture(scope="module")
def workspace_dir(tmp_path_factory):
    """A project folder with Azure's config.json, extended with where MLflow lives."""
    path = tmp_path_factory.mktemp("workspace")
    with open(path / "config.json", "w") as fh:
        json.dump({"subscription_id": "sub-1", "resource_group": "rg", "workspace_name": "ws",
                   "tracking_uri": f"sqlite:///{path}/mlflow.db"}, fh)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(path)
        yield path


@pytest.fixture(scope="module")
def seed_run(spark, workspace_dir):
    """The article's classification example, run as written (a short timeout and few iterations)."""
    data = str(dataset_path("credit_g"))  # the article reads a CSV from a URL
    dataset = Dataset.Tabular.from_delimited_files(data)
    df = dataset.to_pandas_dataframe()
    train_data, test_data = train_test_split(df, test_size=0.1, random_state=42)
    label = "class"
    automl_classifier = AutoMLConfig(task='classification',
                                     primary_metric='AUC_weighted',
                                     experiment_timeout_minutes=3,
                                     blocked_models=['XGBoostClassifier'],
                                     training_data=train_data,
                                     label_column_name=label,
                                     n_cross_validations=2,
                                     iterations=4, test_data=test_data, model_explainability=False,
                                     allowed_models=["LogisticRegression", "LightGBM", "DecisionTree"])
    ws = Workspace.from_config()
    experiment_name = 'Tutorial-automl'
    project_folder = './sample_projects/automl-classification'  # noqa: F841 - as in the article
    experiment = Experiment(ws, experiment_name)
    run = experiment.submit(automl_classifier, show_output=True)
    return run, test_data, ws


@pytest.mark.slow
def test_seed_article_classification_run_api(seed_run, workspace_dir):
    remote_run, test_data, ws = seed_run
    assert ws.get_mlflow_tracking_uri() == f"sqlite:///{workspace_dir}/mlflow.db"
    assert MlflowClient(ws.tracking_uri).get_run(remote_run.id).info.status == "FINISHED"

    best_run, fitted_model = remote_run.get_output()
    assert fitted_model.predict(test_data.drop(columns=["class"]).head(3)).shape == (3,)
    test_run = next(best_run.get_children(type='automl.model_test'))
    test_run.wait_for_completion(show_output=False, wait_post_processing=True)
    test_run_metrics = test_run.get_metrics()
    assert 0.5 < test_run_metrics["AUC_weighted"] <= 1.0
    test_run_details = test_run.get_details()
    assert test_run_details["status"] == "Completed"
    dataset_id = test_run_details['outputDatasets'][0]['identifier']['savedId']
    test_run_predictions = Dataset.get_by_id(ws, dataset_id)
    predictions_df = test_run_predictions.to_pandas_dataframe()
    assert len(predictions_df) == len(test_data)
    test_run.download_file("predictions/predictions.csv")
    predictions_df = pd.read_csv("predictions.csv")
    assert len(predictions_df) == len(test_data) and {"actual", "predicted"} <= set(predictions_df.columns)

    # Run(experiment, run_id) re-attaches; RunDetails(run).show() prints the leaderboard
    run = Run(Experiment(ws, "Tutorial-automl"), remote_run.id)
    assert run.get_status() == "Completed" and run.properties["best_child_run_id"] == best_run.id
    RunDetails(run).show()

    # ModelProxy tests any child
    model_proxy = ModelProxy(child_run=best_run, compute_target="cpu_cluster")
    predictions, metrics = model_proxy.test(test_data, include_predictions_only=True)
    assert list(predictions.columns[:2]) == ["actual", "predicted"] and metrics["AUC_weighted"] == pytest.approx(
        test_run_metrics["AUC_weighted"])

    best_run = remote_run.get_best_child()
    model_name = best_run.properties['model_name']
    description = 'AutoML forecast example'
    tags = None
    model = remote_run.register_model(model_name=model_name, description=description, tags=tags)
    assert model.name == model_name and model.description == description
    parent = MlflowClient(ws.tracking_uri).get_run(remote_run.id).data.tags  # pointers on the parent's page
    assert parent["automl.best_child_run_id"] == best_run.id and parent["automl.model_uri"] == remote_run.model_uri
    assert parent["automl.registered_model"] == f"{model_name}/{model.version}"
    assert f"iteration {best_run.iteration}" in parent["mlflow.note.content"]


@pytest.mark.slow
def test_children_properties_files_and_filters(seed_run):
    run = seed_run[0]
    children = list(run.get_children())
    assert [c.iteration for c in children] == sorted(r.iteration for r in run.results)
    best = run.get_best_child()
    props = best.properties
    assert props["run_algorithm"] == best.model_name and props["score"] == best.metrics["AUC_weighted"]
    assert props["primary_metric"] == "AUC_weighted" and props["iteration"] == best.iteration
    only_best = list(run.get_children(properties={"iteration": best.iteration}))
    assert [c.iteration for c in only_best] == [best.iteration]
    by_tag = list(run.get_children(tags={"model_name": "LogisticRegression"}))
    assert by_tag and all(c.model_name == "LogisticRegression" for c in by_tag)
    tests = list(run.get_children(type="automl.model_test"))  # the end-of-run test, then ModelProxy's
    assert len(tests) == 2 and {t.iteration for t in tests} == {best.iteration}
    assert best.get_status() == "Completed" and best.get_details()["startTimeUtc"].endswith("Z")
    assert "model/MLmodel" in best.get_file_names()
    assert run.get_details()["properties"]["model_name"] == props["model_name"]
    assert "leaderboard.csv" in run.get_file_names()
    assert run.wait_for_completion()["status"] == "Completed"


@pytest.mark.slow
def test_seed_article_ensemble_and_forecasting_configs(spark, workspace_dir, caplog):
    train_data = pd.read_csv(dataset_path("credit_g"))
    label = "class"
    ensemble_settings = {
        "ensemble_download_models_timeout_sec": 600,  # the article lacks this comma
        "stack_meta_learner_type": "LogisticRegressionCV",
        "stack_meta_learner_train_percentage": 0.3,
        "stack_meta_learner_kwargs": {
            "refit": True,
            "fit_intercept": False,
            "class_weight": "balanced",
            "multi_class": "auto",
            "n_jobs": -1
        }
    }
    with caplog.at_level(logging.INFO, logger="spark_automl"):
        automl_classifier = AutoMLConfig(
            task='classification',
            primary_metric='AUC_weighted',
            experiment_timeout_minutes=30,
            training_data=train_data,
            label_column_name=label,
            n_cross_validations=5,
            **ensemble_settings
        )
    assert automl_classifier.stack_meta_learner_kwargs == {"refit": True, "fit_intercept": False,
                                                           "class_weight": "balanced", "n_jobs": -1}
    assert "ensemble_download_models_timeout_sec has no effect" in caplog.text and "multi_class" in caplog.text

    # the forecasting example, run for two iterations on a bundled series
    data = pd.read_csv(dataset_path("airline_passengers"))
    time_column_name, label = data.columns[0], data.columns[1]
    n_test_periods = 6
    train_data, test_data = data.iloc[:-n_test_periods], data.iloc[-n_test_periods:]
    project_folder = str(workspace_dir / "sample_projects" / "automl-forecasting")
    time_series_settings = {
        'time_column_name': time_column_name,
        'forecast_horizon': n_test_periods
    }
    automl_config = AutoMLConfig(
        task='forecasting',
        debug_log='automl_oj_sales_errors.log',
        primary_metric='normalized_root_mean_squared_error',
        experiment_timeout_minutes=3,
        training_data=train_data,
        test_data=test_data,
        label_column_name=label,
        n_cross_validations=3,
        path=project_folder,
        verbosity=logging.INFO,
        iterations=2, allowed_models=["SeasonalNaive", "ExponentialSmoothing"], model_explainability=False,
        **time_series_settings
    )
    run = Experiment(Workspace.from_config(), "forecast-seed").submit(automl_config)
    assert run.status == "Completed" and len(run.forecast()) == n_test_periods
    test_run = next(run.get_children(type="automl.model_test"))  # test_data: forecast and scored after the search
    forecast = run.forecast(test_data[[time_column_name]])["prediction"].to_numpy()
    rmse = np.sqrt(np.mean((test_data[label].to_numpy() - forecast) ** 2))
    assert test_run.get_metrics()["root_mean_squared_error"] == pytest.approx(rmse, rel=1e-6)
    with open(os.path.join(project_folder, "automl_oj_sales_errors.log")) as fh:
        log_text = fh.read()
    assert "Search stopped" in log_text and "SeasonalNaive" in log_text  # progress lines, without show_output


@pytest.mark.parametrize("handle", ["submitted", "re-attached", "command"])
def test_cancel_from_another_thread_keeps_the_best_model(spark, tracking_uri, monkeypatch, handle, tmp_path):
    """re-attached: cancel() on a handle from Experiment.get_run (as another process would hold) reaches the
    driver through the tracking store; command: `spark-automl cancel` with the train job's config."""
    monkeypatch.setenv("SPARK_AUTOML_CANCEL_POLL_SECONDS", "0.5")
    frame = pd.read_csv(dataset_path("penguins")).dropna()
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="species", iterations=60,
                       allowed_models=["LogisticRegression", "DecisionTree", "KNN"], model_explainability=False,
                       enable_stack_ensemble=False, enable_early_stopping=False, seed=0)
    run = Experiment("cancel", spark=spark, tracking_uri=tracking_uri).submit(cfg, wait=False)
    assert run.status in ("NotStarted", "Running")
    assert run.id is not None  # known as soon as the parent run exists
    client = MlflowClient(tracking_uri)
    experiment_id = client.get_run(run.id).info.experiment_id

    def finished_children() -> int:
        query = f"tags.`mlflow.parentRunId` = '{run.id}'"
        return len(client.search_runs([experiment_id], query))

    for _ in range(600):  # the run goes on in the background: wait for three trials, then cancel
        if finished_children() >= 3:
            break
        threading.Event().wait(0.1)
    for _ in range(50):  # re-attached mid-run: beating, with its checkpointed trials (written after the children)
        live = Experiment("cancel", spark=spark, tracking_uri=tracking_uri).get_run(run.id)
        if len(live.results) >= 3:
            break
        threading.Event().wait(0.1)
    assert live.status == "Running" and len(live.results) >= 3
    job = tmp_path / "train.yaml"
    job.write_text(yaml.safe_dump({"experiment_name": "cancel", "tracking_uri": tracking_uri,
                                   "automl": {"task": "classification", "label_column_name": "species"}}))
    command = functools.partial(cli.main, ["cancel", "--config", str(job), "--run-id", run.id])
    canceller = threading.Thread(target={"submitted": run.cancel, "re-attached": live.cancel, "command": command}[handle])
    canceller.start()
    canceller.join()
    details = run.wait_for_completion()
    assert details["status"] == "Canceled" and run.status == "Canceled"
    trials = [r for r in run.results if r.origin != "ensemble"]
    assert 3 <= len(trials) < 60 and run.stop_reason == CANCELED_REASON
    assert run.model.predict(frame.drop(columns=["species"]).head(4)).shape == (4,)
    assert client.get_run(run.id).info.status == "KILLED" and run.model_uri is not None


@pytest.mark.slow
def test_custom_metric_drives_selection(spark, tracking_uri):
    """A metric whose best model is AUC's worst: the chosen model follows the custom metric."""
    frame = pd.read_csv(dataset_path("credit_g"))
    worst_auc = CustomMetric("worst_auc", lambda y, p: -roc_auc_score(y == "good", p), greater_is_better=True,
                             needs_proba=True)
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="class",
                       primary_metric=worst_auc, iterations=4, n_cross_validations=3, positive_label="good",
                       allowed_models=["LogisticRegression", "DecisionTree", "KNN", "LightGBM"],
                       enable_voting_ensemble=False, enable_stack_ensemble=False, model_explainability=False, seed=1)
    run = Experiment("custom-metric", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    singles = [r for r in run.results if r.status == OK]
    assert len({round(r.metrics["AUC_binary"], 6) for r in singles}) > 1
    for r in singles:
        assert r.metrics["worst_auc"] == pytest.approx(-r.metrics["AUC_binary"], abs=1e-9)
    worst_by_auc = min(singles, key=lambda r: (r.metrics["AUC_binary"], r.iteration))
    assert run.best.iteration == worst_by_auc.iteration and run.primary_metric == "worst_auc"
    assert list(run.leaderboard["worst_auc"])[0] == pytest.approx(max(r.score for r in singles))
    child = MlflowClient(tracking_uri).get_run(run.get_best_child().id)
    assert child.data.metrics["worst_auc"] == pytest.approx(run.best.score)


@pytest.mark.slow
def test_f1_and_cv_splits_indices(spark, tracking_uri):
    frame = pd.read_csv(dataset_path("penguins")).dropna().reset_index(drop=True)
    n = len(frame)
    order = np.random.default_rng(0).permutation(n)
    splits = [[order[: n // 2], order[n // 2:]], [order[n // 2:], order[: n // 2]]]
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="species",
                       primary_metric="f1_score_weighted", cv_splits_indices=splits, iterations=2,
                       allowed_models=["LogisticRegression"], model_explainability=False,
                       enable_voting_ensemble=False, enable_stack_ensemble=False)
    assert "__cv_split_0" not in frame.columns  # the user's frame is untouched
    run = Experiment("f1", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    assert run.primary_metric == "f1_score_weighted" and 0.8 < run.best.score <= 1.0
    assert not any(c.startswith("__cv_split") for c in run.info["feature_columns"])
    assert run.best.oof is not None and np.isfinite(run.best.oof).all()  # two folds cover every row


@pytest.mark.slow
def test_databricks_classify_returns_a_summary(spark, tracking_uri):
    from spark_automl import classify

    frame = pd.read_csv(dataset_path("credit_g"))
    frame["split"] = np.where(np.arange(len(frame)) % 10 == 0, "test",
                              np.where(np.arange(len(frame)) % 10 < 3, "validate", "train"))
    frame["row_id"] = np.arange(len(frame))
    summary = classify(frame, target_col="class", primary_metric="roc_auc", max_trials=3, timeout_minutes=3,
                       split_col="split", exclude_cols=["row_id"], exclude_frameworks=["xgboost", "lightgbm"],
                       pos_label="good", experiment_dir="/Users/me/automl", experiment_name="credit",
                       spark=spark, tracking_uri=tracking_uri, show_output=False, model_explainability=False,
                       enable_stack_ensemble=False)
    assert summary.experiment.name == "/Users/me/automl/credit"
    assert summary.run.primary_metric == "AUC_weighted" and summary.primary_metric == "AUC_weighted"
    assert not {"LightGBM", "XGBoostClassifier"} & {t.model_description.split("(")[0] for t in summary.trials}
    assert "split" not in summary.info["feature_columns"]
    best = summary.best_trial
    assert best.evaluation_metric_score == max(t.evaluation_metric_score for t in summary.trials)
    assert best.mlflow_run_id == summary.run.get_best_child().id and best.model_path == summary.run.model_uri
    model = best.load_model()
    rows = frame.drop(columns=["class", "split"]).head(50)
    shuffled = rows.assign(row_id=rows["row_id"].to_numpy()[::-1] * 1000)
    assert (model.predict_proba(rows) == model.predict_proba(shuffled)).all()  # exclude_cols: row_id unused
    assert "AUC_weighted" in summary.metric_distribution
    test_runs = list(summary.run.get_children(type="automl.model_test"))  # split_col's 'test' rows
    assert len(test_runs) == 1 and 0.5 < test_runs[0].get_metrics()["AUC_weighted"] <= 1.0


def test_cancel_iteration_drops_one_child_and_the_rest_go_on(spark, tracking_uri):
    frame = pd.read_csv(dataset_path("penguins")).dropna()
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="species", iterations=8,
                       allowed_models=["LogisticRegression", "DecisionTree", "KNN"], model_explainability=False,
                       enable_stack_ensemble=False, enable_voting_ensemble=False, seed=0)
    run = Experiment("cancel-one", spark=spark, tracking_uri=tracking_uri).submit(cfg, wait=False)
    run.cancel_iteration(5)  # before it starts: it never runs
    run.wait_for_completion()
    by_iteration = {r.iteration: r for r in run.results}
    assert by_iteration[5].status == "canceled" and by_iteration[5].duration < 1.0
    assert all(r.status == OK for i, r in by_iteration.items() if i != 5) and len(by_iteration) == 8
    assert run.best.iteration != 5 and run.status == "Completed"
    assert MlflowClient(tracking_uri).get_run(run.tracker.child_run_ids[5]).info.status == "KILLED"
    with pytest.raises(Exception, match="needs a running run"):
        run.cancel_iteration(1)
