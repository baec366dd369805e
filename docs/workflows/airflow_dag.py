"""An Airflow DAG for spark-automl's jobs: weekly retrain -> promote, daily score -> forecast.

Copy into your DAGs folder and set SPARK_AUTOML_HOME to the checkout (its conf/local/ holds the cluster's
tracking server and tables). Needs apache-airflow-providers-apache-spark and a `spark_default`
connection pointing at the cluster. Not imported by the package or its tests; the jobs it calls are
the ones tests/integration/test_cluster.py chains through spark-submit.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

HOME = os.environ.get("SPARK_AUTOML_HOME", "/opt/spark-automl")


def job(task_id: str, script: str, config: str) -> SparkSubmitOperator:
    """One spark-submit of jobs/<script> with a conf/base YAML; a non-zero exit (2 bad config, 3 no
    trial succeeded, 4 tracking store...) fails the task and stops the chain."""
    return SparkSubmitOperator(task_id=task_id, application=f"{HOME}/jobs/{script}",
                               application_args=["--config", f"{HOME}/conf/base/{config}"],
                               conf={"spark.sql.execution.arrow.pyspark.enabled": "true"})


with DAG("spark_automl_weekly_retrain", schedule="0 3 * * 1", start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1) as weekly:
    job("train", "train.py", "train.yaml") >> job("promote", "promote.py", "promote.yaml")

with DAG("spark_automl_daily_batch", schedule="30 5 * * *", start_date=datetime(2026, 1, 1), catchup=False,
         max_active_runs=1) as daily:
    job("score", "score.py", "score.yaml") >> job("forecast", "forecast.py", "forecast.yaml")
