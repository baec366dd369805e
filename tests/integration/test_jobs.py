"""The score job end to end: a registered model over a CSV, written as Parquet with probabilities."""

import numpy as np
import pandas as pd
import pytest

from spark_automl import AutoMLConfig, Experiment
from spark_automl.cli import main

pytestmark = pytest.mark.spark


def test_score_job_writes_predictions_and_probabilities(spark, tracking_uri, penguins, tmp_path):
    frame = penguins.dropna().reset_index(drop=True)
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="species", iterations=2,
                       allowed_models=["LogisticRegression"], model_explainability=False,
                       enable_voting_ensemble=False, enable_stack_ensemble=False)
    run = Experiment("score-job", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    run.register_model("penguin-model", alias="champion")
    rows = frame.drop(columns=["species"]).head(40)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "scores"
    (tmp_path / "score.yaml").write_text(
        f"model: models:/penguin-model@champion\ntracking_uri: {tracking_uri}\ninput: {tmp_path / 'rows.csv'}\n"
        f"output: {out}\nprobabilities: true\n")
    assert main(["score", "--config", str(tmp_path / "score.yaml")]) == 0
    scored = pd.read_parquet(out)
    classes = list(run.model.classes_)
    assert len(scored) == 40 and [f"probability_{c}" for c in classes] == list(scored.columns[-len(classes):])
    ordered = scored.sort_values("bill_length_mm", kind="mergesort")
    expected = run.model.predict_proba(rows.sort_values("bill_length_mm", kind="mergesort"))
    np.testing.assert_allclose(ordered[[f"probability_{c}" for c in classes]].to_numpy(), expected, atol=1e-6)
    assert (ordered["prediction"].to_numpy() == np.asarray(classes)[expected.argmax(axis=1)]).all()
    assert main(["score", "--config", str(tmp_path / "score.yaml")]) == 2  # mode 'error': the output exists
