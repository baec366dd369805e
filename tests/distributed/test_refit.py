"""Large-data mode on a real local Spark: featurization in Spark, the distributed refit, the
stratified sample and test rows scored in Spark."""

import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import ElasticNet, LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score

from spark_automl import AutoMLConfig, Experiment
from spark_automl.data.ingest import with_row_ids
from spark_automl.data.prepare import MIN_ROWS_PER_CLASS, _bounded
from spark_automl.distributed.features import SCHEMA, features_frame
from spark_automl.distributed.learners import FitRequest, _fit_linear
from spark_automl.featurize.transformer import AutoFeaturizer, ColumnPlan
from spark_automl.scoring import local_model_path

from ..conftest import dataset_csv

pytestmark = pytest.mark.spark


def _frame(spark, X, y):
    rows = [(x.astype(np.float32).tolist(), float(t), 1.0) for x, t in zip(X, y)]
    return spark.createDataFrame(rows, SCHEMA)


def test_spark_linear_models_reach_scikit_learns_solution(spark):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4)).astype(np.float32)
    y = X @ np.array([1.5, -2.0, 0.0, 0.5]) + rng.normal(scale=0.3, size=600)
    request = FitRequest(_frame(spark, X, y), "ElasticNet", {"alpha": 0.05, "l1_ratio": 0.5}, "regression", 0, 600, 0,
                         2, False)
    ours = _fit_linear(request)
    theirs = ElasticNet(alpha=0.05, l1_ratio=0.5).fit(X.astype(np.float64), y)
    assert np.allclose(ours.coef_, theirs.coef_, atol=2e-3) and ours.intercept_ == pytest.approx(theirs.intercept_, abs=2e-3)

    request = FitRequest(_frame(spark, X, y), "FastLinearRegressor", {"alpha": 300.0}, "regression", 0, 600, 0, 2,
                         False)
    assert np.allclose(_fit_linear(request).coef_, Ridge(alpha=300.0).fit(X.astype(np.float64), y).coef_, atol=2e-3)

    codes = (X[:, 0] - X[:, 1] + rng.normal(scale=0.5, size=600) > 0).astype(int)
    request = FitRequest(_frame(spark, X, codes), "LogisticRegression", {"C": 0.5}, "classification", 2, 600, 0, 2,
                         False)
    ours = _fit_linear(request)
    theirs = LogisticRegression(C=0.5).fit(X.astype(np.float64), codes)
    assert np.allclose(ours.coef_, theirs.coef_, atol=5e-3)
    assert np.allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=2e-3)

    skewed = (X[:, 0] > 0.8).astype(int)  # about a fifth positive: balanced weights move the solution
    counts = {0: int((skewed == 0).sum()), 1: int(skewed.sum())}
    request = FitRequest(_frame(spark, X, skewed), "LogisticRegression", {"C": 0.5, "class_weight": "balanced"},
                         "classification", 2, 600, 0, 2, False, class_counts=counts)
    theirs = LogisticRegression(C=0.5, class_weight="balanced").fit(X.astype(np.float64), skewed)
    assert np.allclose(_fit_linear(request).coef_, theirs.coef_, atol=5e-3)


def test_featurization_in_spark_equals_the_drivers(spark):
    pdf = pd.DataFrame({"x": [1.0, None, 3.0, 4.0], "c": ["a", "b", None, "a"], "y": ["p", "q", "p", "q"]})
    featurizer = AutoFeaturizer([ColumnPlan("x", "numeric", fill_value=2.0, mean=2.5, scale=1.2, missing_indicator=True),
                                 ColumnPlan("c", "categorical", vocabulary=["a", "b"])]).fit()
    rows = features_frame(spark.createDataFrame(pdf), featurizer, ["x", "c"], "y", None, ["p", "q"]).toPandas()
    assert np.allclose(np.stack(rows["features"]), featurizer.transform(pdf[["x", "c"]]))
    assert rows["label"].tolist() == [0.0, 1.0, 0.0, 1.0] and rows["weight"].tolist() == [1.0] * 4


def test_stratified_sample_keeps_a_rare_class(spark):
    n, rare = 20_000, 40
    pdf = pd.DataFrame({"label": ["rare"] * rare + ["common"] * (n - rare), "x": np.arange(n)})
    df = with_row_ids(spark.createDataFrame(pdf))
    sample, expected = _bounded(df, n, 2_000, seed=0, label_counts={"rare": rare, "common": n - rare}, label="label")
    counts = {r["label"]: r["count"] for r in sample.groupBy("label").count().collect()}
    assert counts["rare"] == rare  # all of them: MIN_ROWS_PER_CLASS > 40
    assert abs(counts["common"] - 2_000) < 250 and MIN_ROWS_PER_CLASS > rare
    assert expected == pytest.approx(2_000 + rare, abs=5)


@pytest.mark.slow
def test_large_data_mode_end_to_end(spark, tracking_uri):
    df = dataset_csv("adult.csv").head(6000)
    config = AutoMLConfig(task="classification", training_data=spark.createDataFrame(df), label_column_name="income",
                          primary_metric="AUC_weighted", experiment_timeout_minutes=3, iterations=5,
                          allowed_models=["LightGBM", "LogisticRegression"], enable_stack_ensemble=False,
                          model_explainability=False, max_rows_in_memory=1500, test_size=0.2, seed=0)
    run = Experiment("large", spark=spark, tracking_uri=tracking_uri).submit(config)
    info = run.info
    assert 1000 < info["sampled_rows"] < 2000
    assert run.get_guardrails().set_index("guardrail").loc["Memory issues detection", "status"] == "alerted"
    n_train = info["train_rows"]
    assert 4600 < n_train < 5000  # 6000 rows less the 20% test split: all of them, not the ~1500 searched
    best = run.best
    members = best.ensemble.iterations if best.ensemble is not None else (best.iteration,)
    board = run.leaderboard.set_index("iteration")
    for it in members:  # every member of the winner was refit on all rows by a distributed learner
        learner = board.loc[it, "final_fit"]
        assert learner.startswith(("xgboost.spark, all", "pyspark.ml, all")) and f"{n_train} rows" in learner
    # the test split was scored in Spark: every test row, and the metrics agree with a local score
    preds, metrics = run.test(log=False)
    n_test = 6000 - n_train
    assert preds.attrs["rows"] == len(preds) == n_test
    auc = roc_auc_score(preds["actual"] == ">50K", preds["proba_>50K"])
    assert metrics["AUC_binary"] == pytest.approx(auc) and auc > 0.85
    # the logged model is the same scikit-learn Pipeline and predicts what the run's model predicts
    logged = mlflow.sklearn.load_model(local_model_path(run))
    X = df.drop(columns=["income"]).head(200)
    assert np.allclose(logged.predict_proba(X), run.model.predict_proba(X))
