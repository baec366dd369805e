# Databricks notebook source
# MAGIC %md
# MAGIC # AutoML classification with spark-automl
# MAGIC Azure ML AutoML's API on Spark: configure, submit, inspect the leaderboard, then register and batch-score.
# MAGIC On Databricks, `spark` already exists. Run locally with `.venv/bin/python notebooks/automl_classification.py`.

# COMMAND ----------

try:
    spark  # noqa: F821  (provided by Databricks)
except NameError:
    from spark_automl import local_session

    spark = local_session(cores=2)

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
    experiment_timeout_minutes=1,
    training_data=train,
    label_column_name="class",
    positive_label="bad",
    max_concurrent_iterations=2,
    seed=0,
)
run = Experiment("notebook-credit-g").submit(config, show_output=True)

# COMMAND ----------

# MAGIC %md Leaderboard, guardrails and the chosen pipeline

# COMMAND ----------

print(run.leaderboard.drop(columns=["params"]).head(10).to_string(index=False))
print(run.get_guardrails().to_string(index=False))
run.print_model()

# COMMAND ----------

version = run.register_model("notebook-credit-g", description="AutoML credit risk model")
scored = score_spark(spark, test.drop("class"), f"models:/{version.name}@champion")
scored.select("prediction").groupBy("prediction").count().show()
