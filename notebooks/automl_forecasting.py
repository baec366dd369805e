# Databricks notebook source
# MAGIC %md
# MAGIC # Forecasting with spark-automl
# MAGIC Azure ML AutoML's forecasting settings on Spark: one series here (airline passengers, bundled);
# MAGIC the same code takes thousands of series with `time_series_id_column_names`. Statistical models fit
# MAGIC per series on the executors; global learners train once over lag features of every series.
# MAGIC Run locally with `.venv/bin/python notebooks/automl_forecasting.py` (widgets take their defaults, or
# MAGIC `SPARK_AUTOML_WIDGET_<NAME>` environment variables).

# COMMAND ----------

# MAGIC %pip install "spark-automl[forecast]"

# COMMAND ----------

try:
    spark  # noqa: F821  (provided by Databricks)
except NameError:
    from spark_automl import local_session

    spark = local_session(cores=2)

# COMMAND ----------

from spark_automl.notebook import display, experiment_path, widget

max_trials = int(widget(spark, "iterations", "1000", "Most trials (Azure's iterations)"))
timeout_minutes = float(widget(spark, "timeout_minutes", "1.5", "Budget (minutes)"))
experiment_name = experiment_path(spark, widget(spark, "experiment", "notebook-airline", "MLflow experiment"))
model_name = widget(spark, "model_name", "airline-forecaster", "Registered model")

# COMMAND ----------

import pandas as pd

from spark_automl import AutoMLConfig, Experiment, ForecastingParameters, forecast_spark
from spark_automl.datasets import dataset_path

series = pd.read_csv(dataset_path("airline_passengers"))
train, held_out = series.iloc[:-12], series.iloc[-12:]  # keep 1960 to check the forecast

# COMMAND ----------

config = AutoMLConfig(
    task="forecasting",
    training_data=spark.createDataFrame(train),
    label_column_name="passengers",
    forecasting_parameters=ForecastingParameters(time_column_name="month", forecast_horizon=12),
    n_cross_validations=3,
    experiment_timeout_minutes=timeout_minutes,
    iterations=max_trials,
    seed=0,
)
run = Experiment(experiment_name).submit(config, show_output=True)

# COMMAND ----------

display(run.leaderboard[["iteration", "model", "normalized_root_mean_squared_error", "MASE"]].head(10))
display(run.get_guardrails())

# COMMAND ----------

forecast = run.forecast()  # the next 12 months, with 80% and 95% intervals
forecast["actual"] = held_out["passengers"].to_numpy()
display(forecast)

# COMMAND ----------

version = run.register_model(model_name)
future = spark.createDataFrame(forecast[["month"]])
display(forecast_spark(spark, future, f"models:/{version.name}@champion"))
