"""SparkAutoML as a pyspark.ml stage: inside a Pipeline after a feature stage, transform adds the
prediction and probabilities, and the fitted PipelineModel saves and loads."""

import numpy as np
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import SQLTransformer

from spark_automl import SparkAutoML, SparkAutoMLModel
from spark_automl.errors import ConfigError

pytestmark = pytest.mark.spark


def test_automl_inside_a_pipeline_predicts_saves_and_loads(spark, tracking_uri, penguins, tmp_path):
    frame = penguins.dropna().reset_index(drop=True)
    df = spark.createDataFrame(frame)
    ratio = SQLTransformer(statement="SELECT *, bill_length_mm / bill_depth_mm AS bill_ratio FROM __THIS__")
    automl = SparkAutoML(experiment_name="ml-stage", tracking_uri=tracking_uri, task="classification",
                         label_column_name="species", iterations=2, allowed_models=["LogisticRegression"],
                         model_explainability=False, enable_voting_ensemble=False, enable_stack_ensemble=False)
    fitted = Pipeline(stages=[ratio, automl]).fit(df)
    stage = fitted.stages[-1]
    assert isinstance(stage, SparkAutoMLModel) and "bill_ratio" in stage.run.info["feature_columns"]
    out = fitted.transform(df).toPandas()
    classes = list(stage.run.model.classes_)
    expected = stage.run.model.predict_proba(out.drop(columns=["species", "prediction", "probability",
                                                               *[f"probability_{c}" for c in classes]]))
    np.testing.assert_allclose(np.stack(out["probability"].map(lambda v: v.toArray())), expected, atol=1e-6)
    assert (out["prediction"].to_numpy() == np.asarray(classes)[expected.argmax(axis=1)]).all()
    fitted.write().overwrite().save(str(tmp_path / "pipeline"))
    reloaded = PipelineModel.load(str(tmp_path / "pipeline"))
    assert reloaded.stages[-1].getOrDefault("modelUri") == stage.getOrDefault("modelUri")
    again = reloaded.transform(df).select("prediction").toPandas()
    assert (again["prediction"].to_numpy() == out["prediction"].to_numpy()).all()


def test_the_stage_checks_its_parameters_before_any_data():
    with pytest.raises(ConfigError, match="primary_metric"):
        SparkAutoML(task="classification", label_column_name="y", primary_metric="r2_score")
    with pytest.raises(ConfigError, match="takes its training data from fit"):
        SparkAutoML(task="classification", label_column_name="y", training_data="t")
    with pytest.raises(ConfigError, match="for forecasting use"):
        SparkAutoML(task="forecasting", label_column_name="y", time_column_name="t")
