"""What leaves the process: with model_input_example=None no training or test row is in any logged
artifact; the default example is synthetic; models carry the library's code, not its data."""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, ConfigError, Experiment
from spark_automl.data.prepare import PLACEHOLDER, input_example

pytestmark = pytest.mark.spark

N = 120
ROW = re.compile(rb"qzx\d{4}vw")  # a value of the 'note' column, in any artifact


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    x = rng.normal(size=N)
    return pd.DataFrame({"x": x, "grade": rng.choice(["lo", "mid", "hi"], N),
                         "note": [f"qzx{i:04d}vw" for i in range(N)],  # one distinctive string per row
                         "y": np.where(x + rng.normal(0, 0.5, N) > 0, "yes", "no")})


def _artifact_bytes(client: MlflowClient, experiment_id: str, dst) -> bytes:
    blob = b""
    for run in client.search_runs([experiment_id]):
        local = client.download_artifacts(run.info.run_id, "", str(dst / run.info.run_id))
        for folder, _, files in os.walk(local):
            for name in files:
                with open(os.path.join(folder, name), "rb") as fh:
                    blob += fh.read()
    return blob


def _submit(spark, tmp_path, example):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    cfg = AutoMLConfig(task="classification", training_data=_frame(), label_column_name="y", iterations=2,
                       allowed_models=["LogisticRegression"], enable_voting_ensemble=False,
                       enable_stack_ensemble=False, model_explainability=False, test_size=0.2, seed=0,
                       model_input_example=example)
    run = Experiment("privacy", spark=spark, tracking_uri=uri).submit(cfg)  # artifacts land beside the store
    return run, MlflowClient(uri)


def test_no_row_in_any_artifact_when_the_input_example_is_off(spark, tmp_path):
    run, client = _submit(spark, tmp_path, None)
    blob = _artifact_bytes(client, run.tracker.experiment_id, tmp_path / "artifacts")
    assert b"flavors:" in blob and len(blob) > 10_000  # the artifacts were read (the MLmodel file among them)
    assert ROW.search(blob) is None
    model_dir = client.download_artifacts(run.tracker.run_of(run.best.iteration), "model", str(tmp_path / "m"))
    assert not os.path.exists(os.path.join(model_dir, "input_example.json"))
    code = [n for _, _, files in os.walk(os.path.join(model_dir, "code")) for n in files]
    assert code and all(n.endswith((".py", ".typed")) for n in code)  # the library's code, not its datasets
    again = Experiment("privacy", spark=spark, tracking_uri=f"sqlite:///{tmp_path}/mlflow.db").get_run(run.id)
    with pytest.raises(ConfigError, match="keeps no validation rows"):
        again.explain()


def test_rows_in_the_example_are_found_when_asked_for(spark, tmp_path):
    run, client = _submit(spark, tmp_path, "rows")  # the positive control: the grep can see a row
    assert ROW.search(_artifact_bytes(client, run.tracker.experiment_id, tmp_path / "artifacts"))


def test_the_synthetic_example_holds_aggregates_in_the_training_dtypes():
    frame = _frame().assign(n=np.arange(N), when=pd.date_range("2024-01-01", periods=N))
    example = input_example(frame, "synthetic")
    assert len(example) == 1 and (example.dtypes == frame.dtypes).all()
    assert example["note"].iloc[0] == PLACEHOLDER  # every value unique: no row's own text
    assert example["grade"].iloc[0] in {"lo", "mid", "hi"}
    assert example["x"].iloc[0] == pytest.approx(frame["x"].median())
    assert example["when"].iloc[0] == frame["when"].min()
    assert input_example(frame, "rows").equals(frame.head(5))
