"""The distributed learner registry: parameter mappings and the choice, without Spark."""

import numpy as np
import pytest

from spark_automl.budget import DISTRIBUTED_REFIT_SECONDS, refit_seconds
from spark_automl.data.prepare import DRIVER_SEARCH_CELLS, search_row_limit
from spark_automl.distributed.learners import (LEARNERS, RF_MAX_TREES, SYNAPSEML_MISSING, FitRequest,
                                               _linear_args, choose_learner, xgboost_params)
from spark_automl.models import REGISTRY, LabelEncodedClassifier


def _request(model, params=None, task="classification", n_classes=2, n_rows=1000):
    return FitRequest(None, model, params or {}, task, n_classes, n_rows, 0, 2, False)


def test_every_mapped_model_is_a_registry_model_of_that_task():
    for learner in LEARNERS:
        for model, tasks in learner.models.items():
            for task in tasks:
                assert REGISTRY.get(model, task).name == model


def test_lightgbm_maps_to_leafwise_xgboost_with_its_leaves():
    p = xgboost_params("LightGBM", {"n_estimators": 300, "num_leaves": 63, "learning_rate": 0.05, "subsample": 0.8,
                                    "min_child_samples": 10})
    assert p["grow_policy"] == "lossguide" and p["max_leaves"] == 63 and p["max_depth"] == 0
    assert p["n_estimators"] == 300 and p["learning_rate"] == 0.05 and p["subsample"] == 0.8
    assert "min_child_samples" not in p  # XGBoost has no row-count constraint


def test_forests_use_xgboost_random_forest_mode_with_bounded_trees():
    p = xgboost_params("RandomForest", {"n_estimators": 400, "max_features": 0.3, "min_samples_leaf": 4})
    assert p["n_estimators"] == 1 and p["num_parallel_tree"] == RF_MAX_TREES and p["learning_rate"] == 1.0
    assert p["colsample_bynode"] == 0.3 and p["min_child_weight"] == 4.0
    assert xgboost_params("XGBoostClassifier", {"max_depth": 5, "n_estimators": 10}) == {"max_depth": 5,
                                                                                          "n_estimators": 10}
    with pytest.raises(KeyError):
        xgboost_params("KNN", {})


def test_linear_regularisation_matches_scikit_learns_objective():
    # LogisticRegression: C * sum(loss) + |w|^2/2  ->  regParam = 1 / (C n)
    assert _linear_args(_request("LogisticRegression", {"C": 2.0}, n_rows=1000)) == (1 / 2000, 0.0)
    # Ridge: |y - Xw|^2 + alpha |w|^2  ->  regParam = alpha / n
    assert _linear_args(_request("FastLinearRegressor", {"alpha": 5.0}, "regression", 0, 100)) == (0.05, 0.0)
    assert _linear_args(_request("ElasticNet", {"alpha": 0.1, "l1_ratio": 0.3}, "regression", 0)) == (0.1, 0.3)
    assert _linear_args(_request("LassoLars", {"alpha": 0.01}, "regression", 0)) == (0.01, 1.0)
    assert _linear_args(_request("SGD", {"alpha": 1e-3, "penalty": "elasticnet", "l1_ratio": 0.2})) == (1e-3, 0.2)


class _NoJvm:
    """A session without SynapseML: its JVM lookup fails as a real one would."""

    @property
    def sparkContext(self):
        raise RuntimeError("no JVM here")


def test_lightgbm_without_synapseml_names_the_package_and_falls_back_to_xgboost_spark():
    learner, notes = choose_learner("LightGBM", "classification", _NoJvm(), _request("LightGBM"))
    assert learner.name == "xgboost.spark"
    assert notes == [f"synapseml.lightgbm: {SYNAPSEML_MISSING}"] and "synapseml_2.12" in notes[0]


def test_models_without_a_distributed_learner_and_unsupported_requests():
    assert choose_learner("KNN", "classification", _NoJvm())[0] is None
    assert choose_learner("DecisionTree", "regression", _NoJvm())[0] is None
    learner, notes = choose_learner("LinearSVM", "classification", _NoJvm(), _request("LinearSVM", n_classes=3))
    assert learner is None and "binary only" in notes[0]
    assert choose_learner("LinearSVM", "classification", _NoJvm(), _request("LinearSVM"))[0].name == "pyspark.ml"
    learner, notes = choose_learner("SGD", "classification", _NoJvm(), _request("SGD", {"loss": "modified_huber"}))
    assert learner is None and "modified_huber" in notes[0]


def test_label_encoded_wrapper_from_a_learner_fit_on_present_classes():
    class Fixed:
        def predict_proba(self, X):
            return np.tile([0.25, 0.75], (len(X), 1))

    wrapped = LabelEncodedClassifier.from_fitted(Fixed(), ["a", "b", "c"], [0, 2], n_features=3)
    proba = wrapped.predict_proba(np.zeros((2, 3)))
    assert proba.tolist() == [[0.25, 0.0, 0.75]] * 2
    assert wrapped.predict(np.zeros((1, 3))).tolist() == ["c"]


def test_driver_budget_lowers_the_sample_for_wide_data_and_refit_cost_scales_with_rows():
    assert search_row_limit(2_000_000, 10) == 2_000_000
    assert search_row_limit(2_000_000, 500) == DRIVER_SEARCH_CELLS // 500
    assert refit_seconds(9.0, 3) == pytest.approx(3.9)
    assert refit_seconds(9.0, 3, row_scale=10.0) == pytest.approx(39.0 + DISTRIBUTED_REFIT_SECONDS)


def test_spark_label_scaling_is_undone_for_the_l2_part_only():
    from spark_automl.distributed.learners import _label_scaled

    assert _label_scaled(0.1, 1.0, 4.0) == (0.1, 1.0)  # pure L1: Spark's and scikit-learn's agree
    assert _label_scaled(0.1, 0.0, 4.0) == pytest.approx((0.4, 0.0))  # pure L2: times std(y)
    reg, l1 = _label_scaled(0.1, 0.5, 4.0)
    assert reg * l1 == pytest.approx(0.05) and reg * (1 - l1) == pytest.approx(0.05 * 4.0)
    assert _label_scaled(0.1, 0.5, 0.0) == (0.1, 0.5)  # constant label: nothing to undo


def test_a_failed_distributed_fit_reports_its_root_cause():
    from spark_automl.distributed.refit import root_cause

    wrapped = Exception("An error occurred while calling z:org.apache.spark.api.python.PythonRDD.collectAndServe.\n"
                        ": org.apache.spark.SparkException: Job aborted due to stage failure\n\tat a.b(C.java:1)\n"
                        "Caused by: java.lang.OutOfMemoryError: Java heap space\n\tat d.e(F.java:2)")
    assert root_cause(wrapped) == "java.lang.OutOfMemoryError: Java heap space"
    assert root_cause(ValueError("bad params")) == "ValueError: bad params"
