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


def _penguin_run(spark, tracking_uri, frame, models, name):
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="species", iterations=1,
                       allowed_models=models, model_explainability=False, primary_metric="AUC_weighted",
                       enable_voting_ensemble=False, enable_stack_ensemble=False)
    run = Experiment(name, spark=spark, tracking_uri=tracking_uri).submit(cfg)
    run.register_model("penguins", alias="challenger")
    return run


def test_promote_moves_the_alias_only_when_the_challenger_wins_by_the_margin(spark, tracking_uri, penguins, tmp_path):
    from mlflow.tracking import MlflowClient

    from spark_automl.promote import promote

    frame = penguins.dropna().reset_index(drop=True)
    fresh = spark.createDataFrame(frame.sample(120, random_state=1))
    _penguin_run(spark, tracking_uri, frame, ["LogisticRegression"], "promote-v1")
    first = promote(spark, fresh, "penguins", challenger="challenger", tracking_uri=tracking_uri)
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    assert first.promoted and first.champion_version is None and first.metric == "AUC_weighted"
    assert str(client.get_model_version_by_alias("penguins", "champion").version) == "1"
    _penguin_run(spark, tracking_uri, frame, ["DecisionTree"], "promote-v2")
    kept = promote(spark, fresh, "penguins", margin=1.0, tracking_uri=tracking_uri)  # an AUC gain of 1 is impossible
    assert not kept.promoted and (kept.challenger_version, kept.champion_version) == ("2", "1")
    assert str(client.get_model_version_by_alias("penguins", "champion").version) == "1"
    assert 0.5 < kept.challenger_score <= 1 and 0.5 < kept.champion_score <= 1 and kept.rows == 120
    recorded = client.get_run(kept.run_id)
    assert recorded.data.metrics == {"challenger_score": kept.challenger_score, "champion_score": kept.champion_score}
    assert recorded.data.tags["automl.promotion"] == "kept" and recorded.data.params["margin"] == "1.0"
    assert kept.run_id in client.get_model_version("penguins", "2").tags["promotion"]
    by_accuracy = promote(spark, fresh, "penguins", metric="accuracy", tracking_uri=tracking_uri)
    assert by_accuracy.promoted == (by_accuracy.challenger_score > by_accuracy.champion_score)
    holder = "2" if by_accuracy.promoted else "1"
    assert str(client.get_model_version_by_alias("penguins", "champion").version) == holder


def test_promote_refuses_what_it_cannot_compare(spark, tracking_uri, penguins):
    from spark_automl.errors import ConfigError, DataError
    from spark_automl.promote import promote

    frame = penguins.dropna().reset_index(drop=True)
    _penguin_run(spark, tracking_uri, frame, ["LogisticRegression"], "promote-bad")
    rows = spark.createDataFrame(frame)
    with pytest.raises(ConfigError, match="No version 7 of registered model 'penguins'"):
        promote(spark, rows, "penguins", challenger=7, tracking_uri=tracking_uri)
    with pytest.raises(ConfigError, match="metric 'r2_score' is not a classification metric"):
        promote(spark, rows, "penguins", metric="r2_score", tracking_uri=tracking_uri)
    with pytest.raises(DataError, match="needs the label column 'species'"):
        promote(spark, rows.drop("species"), "penguins", tracking_uri=tracking_uri)
    with pytest.raises(ConfigError, match="margin must be a finite number >= 0"):
        promote(spark, rows, "penguins", margin=-1, tracking_uri=tracking_uri)


def test_a_regression_model_scores_as_double_without_being_told(spark, tracking_uri, penguins):
    from spark_automl.scoring import score_spark

    frame = penguins.dropna().drop(columns=["species"]).reset_index(drop=True)
    cfg = AutoMLConfig(task="regression", training_data=frame, label_column_name="body_mass_g", iterations=1,
                       allowed_models=["ElasticNet"], model_explainability=False,
                       enable_voting_ensemble=False, enable_stack_ensemble=False)
    run = Experiment("score-double", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    rows = frame.drop(columns=["body_mass_g"]).head(30)
    scored = score_spark(spark, spark.createDataFrame(rows), run, tracking_uri=tracking_uri)
    assert scored.schema["prediction"].dataType.typeName() == "double"
    got = scored.toPandas()["prediction"].to_numpy()
    np.testing.assert_allclose(np.sort(got), np.sort(run.model.predict(rows)), rtol=1e-6)
