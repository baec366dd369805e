"""Batch scoring of a Spark DataFrame with a registered (or any MLflow) model."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pyspark.sql.functions as F
from pyspark.sql import DataFrame, SparkSession

from .errors import ConfigError
from .spark_utils import col
from .tracking import resolve_registry_uri, resolve_tracking_uri


def local_model_path(model: Any, tracking_uri: str | None = None, registry_uri: str | None = None) -> str:
    """A local copy of a logged model, read with a client bound to the given stores (no global
    MLflow URI): an AutoMLRun, 'runs:/<id>/model', 'models:/<name>@<alias>' or '.../<version>',
    or a path."""
    import mlflow.artifacts
    from mlflow.tracking import MlflowClient

    if hasattr(model, "tracker") and hasattr(model, "model_uri"):  # an AutoMLRun
        client, uri = model.tracker.client, model.model_uri
    else:
        tracking = resolve_tracking_uri(tracking_uri)
        client, uri = MlflowClient(tracking, resolve_registry_uri(registry_uri, tracking)), model
    if not isinstance(uri, str) or not uri:
        raise ConfigError(f"model must be an AutoMLRun or a model URI; got {model!r}.")
    dst = tempfile.mkdtemp(prefix="spark-automl-model-")
    if uri.startswith("runs:/"):
        run_id, _, path = uri[len("runs:/"):].partition("/")
        return client.download_artifacts(run_id, path or "model", dst)
    if uri.startswith("models:/"):
        name, _, ref = uri[len("models:/"):].partition("/")
        if "@" in name:
            name, alias = name.split("@", 1)
            version = client.get_model_version_by_alias(name, alias)
        else:
            version = client.get_model_version(name, ref)
        return mlflow.artifacts.download_artifacts(artifact_uri=version.source, dst_path=dst)
    return uri if os.path.exists(uri) else mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=dst)


def score_spark(spark: SparkSession, df: DataFrame, model_uri: Any, output_column: str = "prediction",
                result_type: str | None = None, tracking_uri: str | None = None,
                registry_uri: str | None = None, probabilities: bool = False) -> DataFrame:
    """df + a prediction column, computed on executors by mlflow's pyfunc spark_udf.

    model_uri: an AutoMLRun, 'models:/<name>@champion' or 'runs:/<id>/model' (read from
    tracking_uri / registry_uri, default MLFLOW_TRACKING_URI or ./mlflow.db). result_type: by
    default 'double' for a regression model and 'string' (class labels) for a classifier, read
    from the model's signature. probabilities: a classifier also adds `probability_<class>`
    columns (the model is loaded once per task and scores Arrow batches).
    """
    path = local_model_path(model_uri, tracking_uri, registry_uri)
    if probabilities:
        return _with_probabilities(df, path, output_column)
    import mlflow.pyfunc

    udf = mlflow.pyfunc.spark_udf(spark, path, result_type=result_type or prediction_type(path), env_manager="local")
    return df.withColumn(output_column, udf(F.struct(*[col(c) for c in df.columns])))


def prediction_type(path: str) -> str:
    """'double' when the logged model's signature says it predicts numbers (regression), else 'string'."""
    from mlflow.models import Model

    signature = Model.load(path).signature
    outputs = signature.outputs.inputs if signature is not None and signature.outputs is not None else []
    kind = str(getattr(outputs[0], "type", "")).lower() if len(outputs) == 1 else ""
    return "double" if any(t in kind for t in ("double", "float")) else "string"


def _with_probabilities(df: DataFrame, path: str, output_column: str) -> DataFrame:
    import mlflow.sklearn
    import numpy as np
    import pandas as pd
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    try:
        model = mlflow.sklearn.load_model(path)
    except Exception as err:  # noqa: BLE001 - a forecaster is a pyfunc model
        raise ConfigError(f"probabilities=True needs a classification model logged by spark-automl; this one "
                          f"cannot be read as one ({type(err).__name__}).") from None
    classes = list(getattr(model, "classes_", []))
    if not classes or not hasattr(model, "predict_proba"):
        raise ConfigError("probabilities=True needs a classification model; this model predicts values "
                          "(drop probabilities, or score with result_type='double').")
    names = [f"probability_{c}" for c in classes]
    taken = [n for n in [output_column, *names] if n in df.columns]
    if taken:
        raise ConfigError(f"The input already has the column(s) {taken} that scoring writes; rename them first.")
    schema = StructType(df.schema.fields + [StructField(output_column, StringType())]
                        + [StructField(n, DoubleType()) for n in names])
    shipped = df.sparkSession.sparkContext.broadcast(model)

    def score(batches):
        for pdf in batches:
            proba = np.asarray(shipped.value.predict_proba(pdf), dtype=np.float64)
            out = pdf.copy()
            out[output_column] = pd.Series(np.asarray(classes, dtype=object)[proba.argmax(axis=1)]).astype(str).values
            for j, name in enumerate(names):
                out[name] = proba[:, j]
            yield out

    return df.mapInPandas(score, schema)


def forecast_spark(spark: SparkSession, future: DataFrame | None, model_uri: Any, id_columns: list[str] | None = None,
                   n_partitions: int | None = None, tracking_uri: str | None = None,
                   registry_uri: str | None = None) -> DataFrame:
    """Batch forecast on Spark: the rows of `future` (series ids, time, known covariates) grouped
    by series and forecast on executors with the logged forecaster; the result has the ids, the
    time, 'prediction' and the interval bounds. future=None: the next forecast_horizon steps of
    every series the model was trained on (a model without covariates).

    id_columns: the model's series id columns (read from the model when omitted).
    Each task forecasts all the series of its partition in one call; a large-panel model's
    stored history is shipped to the executors with SparkContext.addFile and read there.
    """
    import pandas as pd
    from pyspark.sql.types import DoubleType, StructField, StructType

    import mlflow.pyfunc

    from .forecasting.forecasters import LEVELS

    model = mlflow.pyfunc.load_model(local_model_path(model_uri, tracking_uri, registry_uri)).unwrap_python_model().fitted
    schema_info = model.schema
    if future is None:
        future = spark.createDataFrame(model.future_frame())
    ids = list(id_columns if id_columns is not None else schema_info.id_columns)
    bounds = [f"prediction_{side}_{level}" for level in LEVELS for side in ("lower", "upper")]
    fields = [future.schema[c] for c in [*ids, schema_info.time_column]]
    out_schema = StructType([*fields, StructField("prediction", DoubleType()),
                             *[StructField(c, DoubleType()) for c in bounds]])
    stored, prefix = model.store, None
    if stored is not None:  # a large panel's history: shipped to every executor, read there per file
        paths, prefix = stored.shipped_files()
        for path in paths:
            spark.sparkContext.addFile(path)
        model.store = None  # the broadcast carries no driver path (this copy of the model is ours alone)
    broadcast = spark.sparkContext.broadcast(model)
    columns = [f.name for f in out_schema.fields]

    def run(batches):
        from pyspark import SparkFiles

        frames = [b for b in batches if len(b)]
        if not frames:
            return
        fitted = broadcast.value
        if prefix is not None:
            fitted.store = stored.at(SparkFiles.getRootDirectory(), prefix)
        yield fitted.forecast(pd.concat(frames, ignore_index=True))[columns]

    keys = [col(k) for k in ids]
    n = n_partitions or spark.sparkContext.defaultParallelism
    grouped = future.repartition(n, *keys) if keys else future.repartition(1)  # a series never spans two tasks
    return grouped.mapInPandas(run, out_schema)
