"""Ctrl-C during the search: the run stops, refits the best model found so far, returns it, and its
MLflow parent run ends KILLED (fault injection: KeyboardInterrupt raised in the main thread)."""

from __future__ import annotations

import _thread

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, Experiment, budget
from spark_automl.datasets import dataset_path
from spark_automl.orchestrator import INTERRUPTED
from spark_automl.progress import Progress

pytestmark = pytest.mark.spark


def test_ctrl_c_after_three_trials_returns_the_best_model_so_far(spark, tmp_path, monkeypatch):
    seen = []
    original = Progress.trials

    def trials_then_ctrl_c(self, batch):
        original(self, batch)
        seen.extend(batch)
        if len(seen) >= 3 and not getattr(self, "_interrupted", False):
            self._interrupted = True
            _thread.interrupt_main()  # what Ctrl-C does: KeyboardInterrupt in the main thread

    monkeypatch.setattr(Progress, "trials", trials_then_ctrl_c)
    monkeypatch.setattr(budget, "BAG_MAX_OBJECTS", 0)  # every member over the bag caps: bagged only in spare time
    frame = pd.read_csv(dataset_path("penguins")).dropna()
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.chdir(tmp_path)
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="species", iterations=40,
                       allowed_models=["LogisticRegression", "DecisionTree", "KNN"], model_explainability=False,
                       enable_stack_ensemble=False, experiment_timeout_minutes=10, seed=0)
    run = Experiment("interrupt", spark=spark, tracking_uri=uri).submit(cfg)
    trials = [r for r in run.results if r.origin != "ensemble"]
    assert 3 <= len(trials) < 40
    assert run.record.stop_reason == INTERRUPTED
    assert run.model is not None and run.model_uri is not None
    assert run.info["bagged"] and not any(run.info["bagged"].values())  # no spare seconds spent after Ctrl-C
    assert run.model.predict(frame.drop(columns=["species"]).head(5)).shape == (5,)
    parent = MlflowClient(uri).get_run(run.id)
    assert parent.info.status == "KILLED" and parent.data.tags["stop_reason"] == INTERRUPTED
    assert "best_accuracy" in parent.data.metrics or any(k.startswith("best_") for k in parent.data.metrics)
