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


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"task": "clustering"}, "'task' parameter of AutoMLConfig must be one of 'classification', 'regression'"),
        ({"task": "classification", "primary_metric": "r2_score"}, "'primary_metric' parameter"),
        ({"task": "regression", "primary_metric": "AUC_weighted"}, "for task 'regression'"),
        ({"task": "classification", "experiment_timeout_minutes": 0}, "'experiment_timeout_minutes'"),
        ({"task": "classification", "experiment_timeout_minutes": -5}, "range (0, inf)"),
        ({"task": "classification", "iterations": 0}, "'iterations'"),
        ({"task": "classification", "max_concurrent_iterations": 0}, "'max_concurrent_iterations'"),
        ({"task": "classification", "allowed_models": ["NotAModel"]}, "unknown value(s) ['NotAModel']"),
        ({"task": "regression", "allowed_models": ["XGBoostClassifier"]}, "Valid choices"),
        ({"task": "classification", "allowed_models": ["LightGBM"], "blocked_models": ["LightGBM"]}, "leave no model"),
        ({"task": "classification", "n_cross_validations": 1}, "'n_cross_validations'"),
        ({"task": "classification", "n_cross_validations": 3, "validation_data": DF}, "not both"),
        ({"task": "classification", "test_size": 0.2, "test_data": DF}, "not both"),
        ({"task": "classification", "validation_size": 1.5}, "'validation_size'"),
        ({"task": "classification", "featurization": "yes"}, "'featurization'"),
        ({"task": "classification", "training_data": DF}, "'label_column_name' parameter of AutoMLConfig is required"),
        ({"task": "classification", "training_data": 42, "label_column_name": "y"}, "'training_data'"),
        ({"task": "classification", "label_column_name": "y", "weight_column_name": "y"}, "names the label column"),
        ({"task": "regression", "positive_label": 1}, "only applies to task='classification'"),
        ({"task": "classification", "experiment_timeout_minutes": 1, "experiment_timeout_hours": 1}, "only one"),
        ({"task": "classification", "enable_early_stopping": "yes"}, "must be a bool"),
        ({"task": "classification", "backend": "dask"}, "'backend'"),
    ],
)
def test_bad_parameters_fail_fast_with_named_parameter(kwargs, fragment):
    with pytest.raises(ConfigError) as err:
        AutoMLConfig(**kwargs)
    assert fragment in str(err.value)


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
