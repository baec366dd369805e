"""continue_experiment: a run whose driver was killed (SIGKILL, no chance to clean up) is re-attached by
id and resumed in another process from what the tracking store holds; a finished run is extended."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, AutoMLRun, ConfigError, Experiment
from spark_automl.datasets import dataset_path
from spark_automl.search.sweeper import _key
from spark_automl.search.trial import OK

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MODELS = ["LogisticRegression", "DecisionTree", "KNN", "RandomForest", "ExtremeRandomTrees"]


def _trial_keys(results):
    return {_key(r.model, r.params) for r in results if r.origin != "ensemble"}


def test_a_killed_driver_is_resumed_without_rerunning_finished_trials(spark, tracking_uri, tmp_path):
    script = textwrap.dedent(f"""
        from spark_automl import AutoMLConfig, Experiment, local_session
        spark = local_session("killed-driver", cores=1)
        cfg = AutoMLConfig(task="classification", training_data={str(dataset_path("credit_g"))!r},
                           label_column_name="class", primary_metric="AUC_weighted", iterations=200,
                           allowed_models={MODELS!r}, enable_early_stopping=False, model_explainability=False,
                           seed=5)
        Experiment("killed", spark=spark, tracking_uri={tracking_uri!r}).submit(cfg)
    """)
    env = {**os.environ, "SPARK_AUTOML_HEARTBEAT_SECONDS": "0.5"}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, start_new_session=True, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    client = MlflowClient(tracking_uri)
    parent_id, deadline = None, time.time() + 240
    try:
        while time.time() < deadline:  # kill once the driver has logged six trials
            experiment = client.get_experiment_by_name("killed")
            if experiment is not None:
                runs = client.search_runs([experiment.experiment_id], "tags.automl = 'spark-automl'")
                if runs:
                    parent_id = runs[0].info.run_id
                    children = client.search_runs([experiment.experiment_id],
                                                  f"tags.`mlflow.parentRunId` = '{parent_id}'")
                    if len(children) >= 6:
                        break
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its Spark JVM, mid-search
        proc.wait(timeout=60)
    assert parent_id is not None
    assert client.get_run(parent_id).info.status == "RUNNING"  # nobody closed it
    time.sleep(2.5)  # four heartbeats missed

    run = AutoMLRun(Experiment("killed", spark=spark, tracking_uri=tracking_uri), parent_id)
    before = [r for r in run.results if r.status == OK]
    assert len(before) >= 5 and run.status == "NotResponding" and "continue_experiment" in run.stop_reason
    best_before = max(r.score for r in before)
    kept = {r.iteration: r.score for r in run.results}

    run.continue_experiment(iterations=4, experiment_timeout_minutes=3)
    assert run.status == "Completed" and client.get_run(parent_id).info.status == "FINISHED"
    new = [r for r in run.results if r.iteration not in kept and r.origin != "ensemble"]
    assert len(new) == 4 and min(r.iteration for r in new) > max(kept)
    assert not _trial_keys(new) & _trial_keys(before)  # no finished trial ran again
    assert {r.iteration: r.score for r in run.results if r.iteration in kept} == kept
    assert run.best.score >= best_before
    assert run.model_uri is not None and run.model.predict_proba(
        __import__("pandas").read_csv(dataset_path("credit_g")).drop(columns=["class"]).head(2)).shape == (2, 2)
    ensembles = [r for r in run.results if r.origin == "ensemble" and r.status == OK]
    assert ensembles and any(set(e.ensemble.iterations) & set(kept) for e in ensembles)  # over old and new


def test_a_finished_run_is_extended_and_needs_its_data_again(spark, tracking_uri):
    import pandas as pd

    frame = pd.read_csv(dataset_path("penguins")).dropna()
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="species", iterations=3,
                       allowed_models=["LogisticRegression", "DecisionTree", "KNN"], model_explainability=False,
                       enable_stack_ensemble=False, seed=0)
    run = Experiment("extend", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    first = {r.iteration for r in run.results}
    with pytest.raises(ConfigError, match="needs training_data"):
        run.continue_experiment(iterations=2)
    with pytest.raises(ConfigError, match="'iterations' parameter of continue_experiment"):
        run.continue_experiment(training_data=frame, iterations=0)
    with pytest.raises(ConfigError, match="the data differs"):
        run.continue_experiment(training_data=frame.head(200), iterations=2)
    run.continue_experiment(training_data=frame, iterations=2)
    trials = [r for r in run.results if r.origin != "ensemble"]
    assert len(trials) == 5 and len(_trial_keys(trials)) == 5
    assert min(r.iteration for r in trials if r.iteration not in first) > max(first)
    assert len([r for r in run.results if r.model == "VotingEnsemble"]) == 1
