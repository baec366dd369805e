"""Databricks AutoML's parameter and metric names, translated before any work (no Spark needed)."""

import pandas as pd
import pytest

from spark_automl import ConfigError
from spark_automl.databricks import (blocked_by_frameworks, databricks_settings, split_by_column, split_by_time,
                                     translate_metric)

FRAME = pd.DataFrame({"x": range(10), "when": pd.date_range("2024-01-01", periods=10)[::-1],
                      "split": ["train"] * 6 + ["validate"] * 2 + ["test"] * 2, "y": [0, 1] * 5})


def test_metric_names():
    assert translate_metric("classification", None) == "f1_score_weighted"  # Databricks' default
    assert translate_metric("classification", "roc_auc") == "AUC_weighted"
    assert translate_metric("regression", None) == "r2_score"
    assert translate_metric("regression", "mae") == "mean_absolute_error"
    assert translate_metric("forecasting", None) is None  # Azure's default for forecasting
    assert translate_metric("classification", "AUC_weighted") == "AUC_weighted"  # AutoML names pass through
    with pytest.raises(ConfigError, match="smape.*forecast_symmetric"):
        translate_metric("forecasting", "smape")


def test_frameworks_become_blocked_models():
    blocked = blocked_by_frameworks("classification", ["lightgbm", "xgboost"])
    assert blocked == ["LightGBM", "XGBoostClassifier"]
    assert blocked_by_frameworks("forecasting", ["arima", "prophet"]) == ["Arimax", "AutoArima", "Prophet"]
    with pytest.raises(ConfigError, match="unknown framework.*'torch'.*valid"):
        blocked_by_frameworks("regression", ["torch"])


def test_split_col_and_time_col_on_a_copy():
    train, test = split_by_column(FRAME, "split", None)
    assert len(train) == 8 and len(test) == 2 and "split" not in test.columns
    assert train["__databricks_split"].tolist() == [1] * 6 + [0] * 2
    timed = split_by_time(FRAME, "when", None)
    assert timed.loc[timed["__databricks_split"] == 0, "x"].tolist() == [0, 1]  # the latest 20% validate
    assert "__databricks_split" not in FRAME.columns
    bad = FRAME.assign(split=["train"] * 9 + ["holdout"])
    with pytest.raises(ConfigError, match="split_col 'split' must hold only train, validate, test.*holdout"):
        split_by_column(bad, "split", None)
    with pytest.raises(ConfigError, match="time_col 'nope' is not a column"):
        split_by_time(FRAME, "nope", None)


def test_settings_refuse_saying_one_thing_twice():
    settings, name = databricks_settings("classification", FRAME, None, exclude_cols=["x"], pos_label=1,
                                         sample_weight_col=None, experiment_dir="/Users/me/automl",
                                         experiment_name="churn", config={})
    assert settings["featurization"].drop_columns == ["x"] and settings["positive_label"] == 1
    assert name == "/Users/me/automl/churn"
    with pytest.raises(ConfigError, match="pos_label.*positive_label"):
        databricks_settings("classification", FRAME, None, pos_label=1, config={"positive_label": 1})
    with pytest.raises(ConfigError, match="split_col or time_col"):
        databricks_settings("classification", FRAME, None, split_col="split", time_col="when", config={})
    with pytest.raises(ConfigError, match="Feature Store"):
        databricks_settings("classification", FRAME, None, feature_store_lookups=[{"table_name": "t"}],
                            config={})


def test_shortcut_arguments_checked_before_any_work():
    from spark_automl import classify

    with pytest.raises(ConfigError, match="max_trials or iterations"):
        classify(FRAME, "y", max_trials=3, iterations=3)
    with pytest.raises(ConfigError, match="training_data is set by classify"):
        classify(FRAME, "y", training_data=FRAME)
