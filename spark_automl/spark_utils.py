"""Small Spark helpers shared by the data, featurize and search layers."""

from __future__ import annotations

import os
import re
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


def quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def col(name: str) -> Column:
    """A column reference that survives dots and spaces in names (ames: 'Lot.Frontage')."""
    return F.col(quoted(name))


def mode_of(name: str) -> Column:
    """The most frequent value; ties broken deterministically on Spark 4 (F.mode's second argument).
    Spark 3.5's mode has no such argument: there a tie may resolve either way."""
    import pyspark

    if int(pyspark.__version__.split(".")[0]) >= 4:
        return F.mode(col(name), True)
    return F.mode(col(name))


def try_double(name: str) -> Column:
    """The column as double, null where it does not parse (SQL try_cast: Spark 3.5 and 4.x alike;
    Column.try_cast exists only from 4.0)."""
    return F.expr(f"try_cast({quoted(name)} AS DOUBLE)")


def configured_master() -> str | None:
    """The master spark-submit (or a cluster launcher) gave this driver, if any.

    Under spark-submit the Python driver is started by the JVM, which exports
    PYSPARK_GATEWAY_PORT: its SparkConf then holds --master. Otherwise no JVM is running yet
    (and none is started here, so the local defaults can still size it); PYSPARK_SUBMIT_ARGS
    may carry a --master."""
    if not os.environ.get("PYSPARK_GATEWAY_PORT"):
        found = re.search(r"--master[= ](\S+)", os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
        return found.group(1) if found else None
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    conf = SparkConf()
    return conf.get("spark.master") if conf.contains("spark.master") else None


def default_session(app_name: str = "spark-automl", cores: int | str = "*", **conf: str) -> SparkSession:
    """The session a job or an Experiment without spark= uses: the active one (Databricks, a
    notebook); else the one spark-submit / the cluster configured (its master is never
    overridden); only when no master is set anywhere, the embedded local default."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if configured_master() is not None:
        builder = SparkSession.builder.appName(app_name)
        for key, value in conf.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()
    return local_session(app_name, cores, **conf)


def is_local_master(master: str) -> bool:
    """local / local[N] / local[*]: one JVM whose tasks run beside the driver. local-cluster[...]
    starts separate executor processes, like a real cluster."""
    return master == "local" or master.startswith("local[")


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


def task_slots(spark: SparkSession) -> int:
    """Tasks the cluster runs at once (Spark's default parallelism): how many workers a
    distributed learner (xgboost.spark barrier tasks) may ask for."""
    try:
        return max(1, int(spark.sparkContext.defaultParallelism))
    except Exception:  # noqa: BLE001 - Spark Connect has no SparkContext
        return max(1, int(spark.conf.get("spark.default.parallelism", "2")))
