"""Run under spark-submit --master local-cluster[...] by test_cluster.py (not collected by pytest):
both Spark backends, featurization, forecasting over many series, score_spark and
forecast_spark, on executors that are separate processes. Prints one JSON line of findings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from spark_automl import AutoMLConfig, Experiment, forecast_spark, score_spark
from spark_automl.datasets import dataset_path
from spark_automl.spark_utils import default_session

HERE = Path(__file__).resolve().parent


def main(tracking_uri: str) -> dict:
    spark = default_session("cluster-checks")
    spark.sparkContext.setLogLevel("ERROR")
    found: dict = {"master": spark.sparkContext.master}

    # Tabular, SparkTrials backend; credit_g has categorical and numeric columns to featurize.
    credit = spark.createDataFrame(pd.read_csv(dataset_path("credit_g")))
    cfg = AutoMLConfig(task="classification", training_data=credit, label_column_name="class", iterations=2,
                       backend="spark_trials", max_concurrent_iterations=2, model_explainability=False,
                       allowed_models=["LightGBM", "LogisticRegression"], seed=0)
    run = Experiment("cluster-tabular", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    trials = [r for r in run.results if r.origin != "ensemble"]
    found["tabular_backend"] = run.backend
    found["tabular_workers"] = sorted({r.worker.split(" (")[0] for r in trials})
    found["tabular_ok"] = sum(r.status == "ok" for r in trials)
    features = credit.drop("class")
    scored = score_spark(spark, features, run).toPandas()
    expected = run.model.predict(features.toPandas())
    found["score_spark_agrees"] = bool((scored["prediction"].to_numpy() == expected).all())

    # Large-data mode: the search on a sample, featurization and the xgboost.spark refit (barrier
    # tasks on both executors) on all rows, the test split scored in Spark.
    lcfg = AutoMLConfig(task="classification", training_data=credit, label_column_name="class", iterations=2,
                        allowed_models=["XGBoostClassifier"], max_rows_in_memory=300, test_size=0.2,
                        enable_voting_ensemble=False, enable_stack_ensemble=False, model_explainability=False, seed=0)
    lrun = Experiment("cluster-large", spark=spark, tracking_uri=tracking_uri).submit(lcfg)
    found["large_final_fit"] = lrun.info["final_learners"][lrun.best.iteration]
    found["large_train_rows"] = lrun.info["train_rows"]
    preds, _ = lrun.test(log=False)
    found["large_test_rows"] = preds.attrs["rows"]

    # Forecasting over many series, as a large panel (the search on a sample of series, every series
    # stored by executor tasks); backend auto picks executors on this master.
    tx = pd.read_csv(HERE.parent / "datasets" / "txhousing.csv.gz")[["city", "date", "sales"]]
    fcfg = AutoMLConfig(task="forecasting", training_data=spark.createDataFrame(tx), label_column_name="sales",
                        time_column_name="date", time_series_id_column_names=["city"], forecast_horizon=6,
                        n_cross_validations=2, iterations=2, max_concurrent_iterations=2, seed=0,
                        allowed_models=["SeasonalNaive", "LightGBM"],
                        max_rows_in_memory=1_200)
    frun = Experiment("cluster-forecast", spark=spark, tracking_uri=tracking_uri).submit(fcfg)
    ftrials = [r for r in frun.results if r.origin != "ensemble"]
    found["forecast_backend"] = frun.backend
    found["forecast_in_tasks"] = all(r.worker.startswith("spark task") for r in ftrials)
    found["forecast_ok"] = sum(r.status == "ok" for r in ftrials)
    found["forecast_series"] = frun.info["n_series"]
    found["forecast_large"] = frun.get_output()[1].store is not None
    local = frun.forecast()
    future = spark.createDataFrame(local[["city", "date"]])
    distributed = forecast_spark(spark, future, frun).toPandas().sort_values(["city", "date"])
    local = local.sort_values(["city", "date"])
    found["forecast_rows"] = len(distributed)
    found["forecast_spark_agrees"] = bool(np.allclose(distributed["prediction"].to_numpy(),
                                                      local["prediction"].to_numpy()))
    return found


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
