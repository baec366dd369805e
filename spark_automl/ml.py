"""AutoML as a pyspark.ml stage: `SparkAutoML(**automl_config).fit(df)` runs the whole experiment
and returns a Transformer that adds prediction (and probability) columns, so AutoML can sit inside a
`pyspark.ml.Pipeline` after feature stages.

The fitted stage holds a reference to its MLflow model (a runs:/ or models:/ URI and the tracking
store), not the model's bytes: the model lives in MLflow, where it was logged. Saving the stage (or
a PipelineModel holding it) writes that reference; loading it scores with the same MLflow model.
"""

from __future__ import annotations

from typing import Any

from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame

from .errors import ConfigError

_EXPERIMENT = "spark-automl"


class _ScoringParams(Params):
    predictionCol = Param(Params._dummy(), "predictionCol", "the prediction column to add",
                          typeConverter=TypeConverters.toString)
    probabilityCol = Param(Params._dummy(), "probabilityCol", "classification: a vector column of class "
                           "probabilities in classes order, beside probability_<class> columns; '' for none",
                           typeConverter=TypeConverters.toString)


class SparkAutoML(Estimator, _ScoringParams):
    """`fit(df)` = AutoMLConfig(training_data=df, **automl_config) submitted to an Experiment.

    automl_config: any AutoMLConfig parameters but training_data (the fitted DataFrame is it);
    checked here, before any data is seen. experiment_name / tracking_uri: where the run is tracked.
    show_output: the live trial table.
    """

    def __init__(self, experiment_name: str = _EXPERIMENT, tracking_uri: str | None = None,
                 show_output: bool = False, predictionCol: str = "prediction", probabilityCol: str = "probability",
                 **automl_config: Any):
        super().__init__()
        self._setDefault(predictionCol="prediction", probabilityCol="probability")
        from .config import AutoMLConfig

        if "training_data" in automl_config:
            raise ConfigError("SparkAutoML takes its training data from fit(df): drop training_data from the "
                              "AutoMLConfig parameters.")
        if automl_config.get("task") == "forecasting":
            raise ConfigError("SparkAutoML is a classification/regression stage (one prediction per row); for "
                              "forecasting use Experiment(...).submit(AutoMLConfig(task='forecasting', ...)) "
                              "and forecast_spark.")
        AutoMLConfig(**automl_config)  # every parameter checked now, not after a Pipeline's earlier stages ran
        self.automl_config = dict(automl_config)
        self.experiment_name, self.tracking_uri, self.show_output = experiment_name, tracking_uri, show_output
        self._set(predictionCol=predictionCol, probabilityCol=probabilityCol)
        self.run = None  # the AutoMLRun of the last fit

    def _fit(self, dataset: DataFrame) -> "SparkAutoMLModel":
        from .config import AutoMLConfig
        from .experiment import Experiment

        config = AutoMLConfig(training_data=dataset, **self.automl_config)
        self.run = Experiment(self.experiment_name, spark=dataset.sparkSession,
                              tracking_uri=self.tracking_uri).submit(config, show_output=self.show_output)
        if not self.run.model_uri:
            raise ConfigError("The AutoML model could not be logged to MLflow (see the run's warnings), so the fitted "
                              "stage has nothing to score with; call run.log_model() on SparkAutoML.run and retry.")
        model = SparkAutoMLModel(modelUri=self.run.model_uri, trackingUri=self.run.tracker.tracking_uri,
                                 task=config.task, predictionCol=self.getOrDefault("predictionCol"),
                                 probabilityCol=self.getOrDefault("probabilityCol"))
        model.run = self.run
        return model


class SparkAutoMLModel(Model, _ScoringParams, DefaultParamsReadable, DefaultParamsWritable):
    """transform(df): df + predictionCol (+ probability columns for a classifier), scored on the
    executors by the MLflow model at modelUri. Also made from any registered model:
    SparkAutoMLModel(modelUri='models:/name@champion', trackingUri=..., task='classification')."""

    modelUri = Param(Params._dummy(), "modelUri", "the MLflow model: runs:/<id>/model or models:/<name>@<alias>",
                     typeConverter=TypeConverters.toString)
    trackingUri = Param(Params._dummy(), "trackingUri", "the MLflow tracking (and registry) store",
                        typeConverter=TypeConverters.toString)
    task = Param(Params._dummy(), "task", "classification or regression", typeConverter=TypeConverters.toString)

    @keyword_only
    def __init__(self, modelUri: str | None = None, trackingUri: str | None = None, task: str = "classification",
                 predictionCol: str = "prediction", probabilityCol: str = "probability"):
        super().__init__()
        self._setDefault(task="classification", predictionCol="prediction", probabilityCol="probability")
        self._set(**self._input_kwargs)
        self.run = None

    def _transform(self, dataset: DataFrame) -> DataFrame:
        import pyspark.sql.functions as F
        from pyspark.ml.functions import array_to_vector

        from .scoring import score_spark

        if not self.isDefined(self.modelUri):
            raise ConfigError("SparkAutoMLModel needs modelUri (runs:/<id>/model or models:/<name>@<alias>).")
        prediction = self.getOrDefault("predictionCol")
        probability = self.getOrDefault("probabilityCol")
        classifier = self.getOrDefault("task") == "classification"
        tracking = self.getOrDefault("trackingUri") if self.isDefined(self.trackingUri) else None
        before = set(dataset.columns)
        scored = score_spark(dataset.sparkSession, dataset, self.getOrDefault("modelUri"), output_column=prediction,
                             tracking_uri=tracking, probabilities=classifier)
        if classifier and probability:
            if probability in before:
                raise ConfigError(f"The input already has a column {probability!r}; set probabilityCol to another "
                                  "name (or '' for none).")
            per_class = [c for c in scored.columns if c not in before and c.startswith("probability_")]
            scored = scored.withColumn(probability, array_to_vector(F.array(*[F.col(f"`{c}`") for c in per_class])))
        return scored
