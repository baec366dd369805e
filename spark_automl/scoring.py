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
