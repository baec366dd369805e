"""Batch scoring of a Spark DataFrame with a registered (or any MLflow) model."""

from __future__ import annotations

import mlflow.pyfunc
import pyspark.sql.functions as F
from pyspark.sql import DataFrame, SparkSession

from .spark_utils import col


def score_spark(spark: SparkSession, df: DataFrame, model_uri: str, output_column: str = "prediction",
                result_type: str = "string") -> DataFrame:
    """df + a prediction column, computed on executors by mlflow's pyfunc spark_udf.

    model_uri: e.g. 'models:/<name>@champion' or 'runs:/<id>/model'. result_type: 'string'
    for class labels, 'double' for regression.
    """
    udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type=result_type, env_manager="local")
    return df.withColumn(output_column, udf(F.struct(*[col(c) for c in df.columns])))


def forecast_spark(spark: SparkSession, future: DataFrame, model_uri: str, id_columns: list[str] | None = None,
                   n_partitions: int | None = None) -> DataFrame:
    """Batch forecast on Spark: the rows of `future` (series ids, time, known covariates) grouped
    by series and forecast on executors with the logged forecaster; the result has the ids, the
    time, 'prediction' and the interval bounds.

    id_columns: the model's series id columns (read from the model when omitted).
    """
    import pandas as pd
    from pyspark.sql.types import DoubleType, StructField, StructType

    from .forecasting.forecasters import LEVELS

    model = mlflow.pyfunc.load_model(model_uri).unwrap_python_model().fitted
    schema_info = model.schema
    ids = list(id_columns if id_columns is not None else schema_info.id_columns)
    bounds = [f"prediction_{side}_{level}" for level in LEVELS for side in ("lower", "upper")]
    fields = [future.schema[c] for c in [*ids, schema_info.time_column]]
    out_schema = StructType([*fields, StructField("prediction", DoubleType()),
                             *[StructField(c, DoubleType()) for c in bounds]])
    broadcast = spark.sparkContext.broadcast(model)

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        out = broadcast.value.forecast(pdf)
        return out[[f.name for f in out_schema.fields]]

    grouped = future.repartition(n_partitions) if n_partitions else future
    if not ids:  # one series: one group
        return grouped.withColumn("__one__", F.lit(1)).groupBy("__one__").applyInPandas(run, out_schema)
    return grouped.groupBy(*[col(k) for k in ids]).applyInPandas(run, out_schema)
