# Databricks notebook source
# MAGIC %md
# MAGIC # AutoML classification with spark-automl
# MAGIC Azure ML AutoML's API on Spark: configure, submit, inspect the leaderboard, then register and batch-score.
# MAGIC On Databricks, `spark` already exists; the widgets above the notebook set the budget and the experiment.
# MAGIC Run locally with `.venv/bin/python notebooks/automl_classification.py` (widgets take their defaults, or
# MAGIC `SPARK_AUTOML_WIDGET_<NAME>` environment variables).

# COMMAND ----------

# MAGIC %pip install spark-automl

# COMMAND ----------

try:
    spark  # noqa: F821  (provided by Databricks)
except NameError:
    from spark_automl import local_session

    spark = local_session(cores=2)

# COMMAND ----------

from spark_automl.notebook import display, experiment_path, widget

max_trials = int(widget(spark, "iterations", "1000", "Most trials (Azure's iterations)"))
timeout_minutes = float(widget(spark, "timeout_minutes", "1", "Budget (minutes)"))
experiment_name = experiment_path(spark, widget(spark, "experiment", "notebook-credit-g", "MLflow experiment"))
model_name = widget(spark, "model_name", "notebook-credit-g", "Registered model")

# COMMAND ----------

import pandas as pd

from spark_automl import AutoMLConfig, Experiment, score_spark
from spark_automl.datasets import dataset_path

data = spark.createDataFrame(pd.read_csv(dataset_path("credit_g")))
train, test = data.randomSplit([0.8, 0.2], seed=0)

# COMMAND ----------

config = AutoMLConfig(
    task="classification",
    primary_metric="AUC_weighted",
    experiment_timeout_minutes=timeout_minutes,
    iterations=max_trials,
    training_data=train,
    label_column_name="class",
    positive_label="bad",
    max_concurrent_iterations=2,
    seed=0,
)
run = Experiment(experiment_name).submit(config, show_output=True)

# COMMAND ----------

# MAGIC %md Leaderboard, guardrails and the chosen pipeline

# COMMAND ----------

display(run.leaderboard.drop(columns=["params"]).head(10))
display(run.get_guardrails())
run.print_model()

# COMMAND ----------

version = run.register_model(model_name, description="AutoML credit risk model")
scored = score_spark(spark, test.drop("class"), f"models:/{version.name}@champion", probabilities=True)
display(scored.groupBy("prediction").count())
