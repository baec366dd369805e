"""One contract test over every registered model (sklearn's parametrize_with_checks idea)."""

import numpy as np
import pytest

from spark_automl.models import REGISTRY
from spark_automl.search.trial import build_estimator, fit_estimator, predict

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 5)).astype(np.float32)
Y_CLS = np.where(X[:, 0] + 0.3 * RNG.normal(size=120) > 0, "yes", "no")
Y_REG = 3 * X[:, 0] - X[:, 1] + 0.1 * RNG.normal(size=120)

CASES = [(task, name) for task in ("classification", "regression") for name in REGISTRY.names(task)]


@pytest.mark.parametrize("task,name", CASES)
def test_every_model_trains_with_its_defaults_and_learns(task, name):
    spec = REGISTRY.get(name, task)
    for params in spec.defaults:
        for key, value in params.items():
            assert key in spec.space, f"{name}: default {key} is not in the search space"
            assert spec.space[key].contains(value), f"{name}: default {key}={value} outside its range"
    y = Y_CLS if task == "classification" else Y_REG
    est = build_estimator(name, spec.defaults[0], task, ["no", "yes"], n_jobs=1, seed=0)
    weight = np.ones(len(y)) if spec.supports_weights else None
    fit_estimator(est, name, task, X, y, weight)
    out = predict(est, task, X)
    if task == "classification":
        assert out.shape == (len(y), 2)
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
        accuracy = np.mean(np.array(["no", "yes"])[out.argmax(axis=1)] == y)
        assert accuracy > 0.7, f"{name} accuracy {accuracy}"
    else:
        assert out.shape == (len(y),)
        assert np.corrcoef(out, y)[0, 1] > 0.5, name


def test_unknown_model_lists_valid_names():
    with pytest.raises(Exception, match="Valid choices: .*LightGBM"):
        REGISTRY.get("LightGMB", "classification")


def test_duplicate_registration_fails_loudly():
    spec = REGISTRY.get("LightGBM", "classification")
    with pytest.raises(ValueError, match="registered twice"):
        REGISTRY.register(spec)


def test_registry_covers_azure_tables():
    azure_clf = {"LogisticRegression", "SGD", "MultinomialNaiveBayes", "BernoulliNaiveBayes", "SVM", "LinearSVM", "KNN",
                 "DecisionTree", "RandomForest", "ExtremeRandomTrees", "LightGBM", "GradientBoosting",
                 "XGBoostClassifier", "AveragedPerceptronClassifier", "LinearSVMClassifier"}
    azure_reg = {"ElasticNet", "GradientBoosting", "DecisionTree", "KNN", "LassoLars", "SGD", "RandomForest",
                 "ExtremeRandomTrees", "LightGBM", "XGBoostRegressor", "FastLinearRegressor",
                 "OnlineGradientDescentRegressor"}
    assert set(REGISTRY.names("classification")) == azure_clf
    assert set(REGISTRY.names("regression")) == azure_reg
    assert len(REGISTRY.to_frame()) == len(REGISTRY.for_task("classification")) + len(REGISTRY.for_task("regression")) - 6


def test_classifier_wrapper_keeps_all_class_columns_when_fold_lacks_a_class():
    est = build_estimator("LightGBM", {}, "classification", ["a", "b", "c"], n_jobs=1, seed=0)
    y = np.where(X[:, 0] > 0, "a", "b")  # 'c' never seen
    fit_estimator(est, "LightGBM", "classification", X, y, None)
    proba = predict(est, "classification", X)
    assert proba.shape == (len(y), 3) and np.all(proba[:, 2] == 0)
