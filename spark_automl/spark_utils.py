"""Small Spark helpers shared by the data, featurize and search layers."""

from __future__ import annotations

import os
import sys

import pyspark.sql.functions as F
from pyspark.sql import Column, SparkSession
from pyspark.sql import types as T

ROW_ID = "__row_id__"
FOLD = "__fold__"
IS_TEST = "__is_test__"
INTERNAL_COLUMNS = (ROW_ID, FOLD, IS_TEST)

NUMERIC_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType, T.FloatType, T.DoubleType, T.DecimalType)
INTEGER_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)


def col(name: str) -> Column:
    """A column reference that survives dots and spaces in names (ames: 'Lot.Frontage')."""
    return F.col("`" + name.replace("`", "``") + "`")


def local_session(app_name: str = "spark-automl", cores: int | str = "*", **conf: str) -> SparkSession:
    """The embedded default: local Spark that runs its Python workers in this interpreter."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "4g")
        .config("spark.sql.session.timeZone", "UTC")
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
