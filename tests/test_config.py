"""AutoMLConfig validation: every bad parameter fails at construction with one message shape."""

import pandas as pd
import pytest

from spark_automl import AutoMLConfig, ConfigError, FeaturizationConfig

DF = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})


def test_defaults_follow_azure():
    cfg = AutoMLConfig(task="classification")
    assert cfg.metric == "accuracy"
    assert cfg.max_iterations == 1000
    assert cfg.max_concurrent_iterations == 1 and cfg.max_cores_per_iteration == 1
    assert cfg.enable_early_stopping and cfg.enable_voting_ensemble
    assert cfg.featurization == "auto" and cfg.stack_meta_learner_train_percentage == 0.2
    assert AutoMLConfig(task="regression").metric == "normalized_root_mean_squared_error"


def test_timeouts_accept_any_positive_number():
    assert AutoMLConfig(task="regression", experiment_timeout_minutes=0.25).timeout_seconds == 15.0
    assert AutoMLConfig(task="regression", experiment_timeout_hours=0.5).timeout_seconds == 1800.0


def test_config_does_not_modify_user_lists():
    allowed = ["LightGBM", "RandomForest"]
    cfg = AutoMLConfig(task="classification", allowed_models=allowed, blocked_models=["RandomForest"])
    assert cfg.candidate_models() == ["LightGBM"]
    assert allowed == ["LightGBM", "RandomForest"]


def test_featurization_config_checks_names():
    fc = FeaturizationConfig()
    fc.add_column_purpose("a", "Categorical")
    fc.add_transformer_params("Imputer", ["b"], {"strategy": "median"})
    fc.add_blocked_transformers(["TfIdf"])
    assert fc.params_for("Imputer", "b") == {"strategy": "median"}
    with pytest.raises(ConfigError, match="must be one of"):
        fc.add_column_purpose("a", "Colour")
    with pytest.raises(ConfigError, match="Cannot block"):
        fc.add_blocked_transformers("Everything")
    with pytest.raises(ConfigError, match="Unknown parameter"):
        fc.add_transformer_params("Imputer", ["b"], {"method": "mean"})


def test_azure_only_parameters_are_noted_or_refused(caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="spark_automl"):
        cfg = AutoMLConfig(task="classification", compute_target="cpu-cluster", spark_context=object(),
                           path="proj", debug_log="automl.log", enable_dnn=False)
    assert "compute_target has no effect" in caplog.text and "spark_context has no effect" in caplog.text
    assert cfg.debug_log_path == "proj/automl.log" and cfg.to_dict()["spark_context"] == "object"
    assert AutoMLConfig(task="classification", debug_log="/abs/a.log", path="p").debug_log_path == "/abs/a.log"
    assert AutoMLConfig(task="classification").debug_log_path is None
    with pytest.raises(ConfigError, match="'enable_dnn'.*enable_dnn=False"):
        AutoMLConfig(task="classification", enable_dnn=True)
    with pytest.raises(ConfigError, match="'ensemble_download_models_timeout_sec'"):
        AutoMLConfig(task="classification", ensemble_download_models_timeout_sec=-1)


def test_any_scalar_metric_or_a_custom_one_may_be_primary(monkeypatch):
    import spark_automl.metrics as metrics_mod
    from spark_automl import CustomMetric

    monkeypatch.setattr(metrics_mod, "CUSTOM_METRICS", {})  # registrations end with the test

    assert AutoMLConfig(task="classification", primary_metric="f1_score_weighted").metric == "f1_score_weighted"
    assert AutoMLConfig(task="regression", primary_metric="mean_absolute_error").metric == "mean_absolute_error"
    with pytest.raises(ConfigError, match="Azure's list.*f1_score_macro"):
        AutoMLConfig(task="classification", primary_metric="f1")
    cost = CustomMetric("unit_cost", lambda y, p: float((y != p).sum()), greater_is_better=False)
    cfg = AutoMLConfig(task="classification", primary_metric=cost)
    assert cfg.metric == "unit_cost" and metrics_mod.CUSTOM_METRICS["unit_cost"].task == "classification"
    assert "unit_cost" not in metrics_mod.METRICS
    assert cfg.to_dict()["primary_metric"] == "unit_cost"
    assert cfg.without_data().primary_metric.function is None  # a lambda does not pickle into the record
    with pytest.raises(ConfigError, match="built-in"):
        AutoMLConfig(task="classification", primary_metric=CustomMetric("accuracy", len))
    with pytest.raises(ConfigError, match="callable"):
        CustomMetric("x", 3)


def test_cv_splits_indices_become_split_columns_on_a_copy():
    frame = pd.DataFrame({"x": range(6), "y": [0, 1] * 3})
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="y",
                       cv_splits_indices=[[[0, 1, 2], [3, 4, 5]], [[3, 4, 5], [0, 1, 2]]])
    assert list(frame.columns) == ["x", "y"]  # the user's frame is not modified
    assert cfg.cv_split_column_names == ["__cv_split_0", "__cv_split_1"]
    assert cfg.training_data["__cv_split_0"].tolist() == [1, 1, 1, 0, 0, 0]
    assert cfg.to_dict()["cv_splits_indices"] == "2 splits"


@pytest.mark.parametrize("splits, fragment", [
    ([[[0, 1], [2, 3, 4]]], "exactly one"),  # row 5 in neither part
    ([[[0, 1, 2, 9], [3, 4, 5]]], "outside 0..5"),
    ([[[0, 1, 2]]], "pair"),
    ([[[], [0, 1, 2, 3, 4, 5]]], "empty"),
])
def test_cv_splits_indices_errors_name_the_split(splits, fragment):
    frame = pd.DataFrame({"x": range(6), "y": [0, 1] * 3})
    with pytest.raises(ConfigError, match=fragment):
        AutoMLConfig(task="classification", training_data=frame, label_column_name="y", cv_splits_indices=splits)


def test_cv_splits_indices_needs_row_positions():
    with pytest.raises(ConfigError, match="pandas DataFrame.*cv_split_column_names"):
        AutoMLConfig(task="classification", training_data="some_table", label_column_name="y",
                     cv_splits_indices=[[[0], [1]]])
    with pytest.raises(ConfigError, match="'cv_splits_indices' or 'n_cross_validations'"):
        AutoMLConfig(task="classification", training_data=DF, label_column_name="y", n_cross_validations=3,
                     cv_splits_indices=[[[0], [1, 2]]])


def test_azure_tabular_dataset_is_read_by_its_path():
    from spark_automl import Dataset

    dataset = Dataset.Tabular.from_delimited_files(["data/train.csv"])
    cfg = AutoMLConfig(task="classification", training_data=dataset, label_column_name="y")
    assert cfg.training_data == "data/train.csv"
    with pytest.raises(ConfigError, match="one path"):
        Dataset.Tabular.from_delimited_files(["a.csv", "b.csv"])


def test_a_model_of_an_extra_is_opt_in_and_without_the_extra_fails_when_asked_for(monkeypatch):
    import importlib.util

    for task in ("classification", "regression"):  # the default search is Azure's model list
        names = AutoMLConfig(task=task).candidate_models()
        assert "CatBoost" not in names and "LightGBM" in names
    forecaster = AutoMLConfig(task="forecasting", time_column_name="t", forecast_horizon=3)
    assert "CatBoost" not in forecaster.candidate_models() and "Naive" in forecaster.candidate_models()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "catboost" else real(name, *a))
    with pytest.raises(ConfigError, match=r"allowed_models=\['LightGBM', 'CatBoost'\] \(CatBoost\) needs the "
                                          r"'catboost' extra.*pip install 'spark-automl\[catboost\]'"):
        AutoMLConfig(task="classification", allowed_models=["LightGBM", "CatBoost"])
    assert AutoMLConfig(task="classification", blocked_models=["CatBoost"]).candidate_models()  # blocking it is fine


@pytest.mark.extra("catboost")
def test_a_model_of_an_installed_extra_runs_when_named():
    assert AutoMLConfig(task="regression", allowed_models=["CatBoost"]).candidate_models() == ["CatBoost"]
    assert AutoMLConfig(task="classification", allowed_models=["LightGBM", "CatBoost"],
                        blocked_models=["LightGBM"]).candidate_models() == ["CatBoost"]
