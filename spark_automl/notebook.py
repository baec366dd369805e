"""What a Databricks notebook has, with local stand-ins, so one notebook source runs in both places:
widgets (local defaults, overridable by environment variables), display() (printed locally) and
experiment paths (workspace paths under the user's folder on Databricks)."""

from __future__ import annotations

import os
from typing import Any

WIDGET_ENV_PREFIX = "SPARK_AUTOML_WIDGET_"
PREVIEW_ROWS = 20


def on_databricks() -> bool:
    return bool(os.environ.get("DATABRICKS_RUNTIME_VERSION"))


def _dbutils(spark: Any) -> Any:
    from pyspark.dbutils import DBUtils  # only on a Databricks runtime

    return DBUtils(spark)


def widget(spark: Any, name: str, default: str, label: str | None = None) -> str:
    """A text widget's value: dbutils.widgets on Databricks (job parameters fill it), else the
    environment variable SPARK_AUTOML_WIDGET_<NAME>, else `default`."""
    if on_databricks():
        widgets = _dbutils(spark).widgets
        widgets.text(name, default, label or name)
        return widgets.get(name)
    return os.environ.get(WIDGET_ENV_PREFIX + name.upper(), default)


def display(obj: Any, rows: int = PREVIEW_ROWS) -> None:
    """Databricks' display() where it exists; locally a printed preview of a pandas or Spark frame."""
    import builtins

    shown = getattr(builtins, "display", None)  # Databricks injects it
    if on_databricks() and callable(shown):
        shown(obj)
        return
    if hasattr(obj, "toPandas") and hasattr(obj, "limit"):  # a Spark DataFrame: never collect it whole
        obj = obj.limit(rows).toPandas()
    if hasattr(obj, "to_string"):
        print(obj.head(rows).to_string(index=False) if hasattr(obj, "head") else obj.to_string())
    else:
        print(obj)


def experiment_path(spark: Any, name: str) -> str:
    """On Databricks an MLflow experiment is a workspace path: /Users/<you>/<name>; locally the name."""
    if not on_databricks() or name.startswith("/"):
        return name
    user = spark.sql("SELECT current_user()").first()[0]
    return f"/Users/{user}/{name}"
