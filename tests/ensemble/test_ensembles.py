"""Ensemble selection and stacking on real models and real data, without Spark."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from spark_automl import AutoMLConfig
from spark_automl.data.prepare import SearchData
from spark_automl.ensemble.build import VOTING, STACK, assemble, build_ensembles
from spark_automl.ensemble.selection import caruana
from spark_automl.errors import ConfigError
from spark_automl.search.trial import Candidate, evaluate, fit_many

CANDIDATES = {
    "classification": [("LightGBM", {"n_estimators": 50}), ("LogisticRegression", {}),
                       ("RandomForest", {"n_estimators": 50}), ("KNN", {}), ("DecisionTree", {"max_depth": 3})],
    "regression": [("LightGBM", {"n_estimators": 50}), ("ElasticNet", {"alpha": 0.01}),
                   ("RandomForest", {"n_estimators": 50}), ("KNN", {})],
}


def _data(loader, task: str, holdout: bool = False, labels=None) -> SearchData:
    X, y = loader(return_X_y=True)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    if labels is not None:
        y = np.asarray(labels, dtype=object)[y]
    fold = np.random.default_rng(0).permutation(len(y)) % (1 if holdout else 3)
    if holdout:
        valid = np.random.default_rng(1).random(len(y)) < 0.25
        splits = [(np.flatnonzero(~valid), np.flatnonzero(valid))]
    else:
        splits = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    classes = sorted(set(y.tolist())) if task == "classification" else None
    y_range = None if classes else float(np.ptp(y))
    return SearchData(task, X, y if classes else y.astype(float), None, splits, classes, y_range)


def _trials(data: SearchData, metric: str):
    return [evaluate(Candidate(i, model, params), data, metric, seed=0)
            for i, (model, params) in enumerate(CANDIDATES[data.task])]


def _config(task: str, metric: str, **kwargs) -> AutoMLConfig:
    return AutoMLConfig(task=task, primary_metric=metric, **kwargs)


@pytest.mark.parametrize("loader,task,metric,labels", [
    (load_breast_cancer, "classification", "AUC_weighted", ["malignant", "benign"]),
    (load_iris, "classification", "accuracy", ["setosa", "versicolor", "virginica"]),
    (load_diabetes, "regression", "normalized_root_mean_squared_error", None),
])
def test_voting_weights_sum_to_one_and_never_lose_to_the_best_model(loader, task, metric, labels):
    data = _data(loader, task, labels=labels)
    trials = _trials(data, metric)
    chosen = caruana(trials, data, metric, iterations=15)
    assert chosen is not None and abs(sum(chosen.weights) - 1.0) < 1e-12
    best = min(t.loss for t in trials)
    assert chosen.loss <= best
    # weights are pick counts over 15 greedy steps plus the seeds: multiples of 1/picks
    picks = round(1 / min(chosen.weights))
    assert all(abs(w * picks - round(w * picks)) < 1e-9 for w in chosen.weights)


def test_voting_result_matches_its_fitted_estimator():
    data = _data(load_breast_cancer, "classification", labels=["malignant", "benign"])
    trials = _trials(data, "AUC_weighted")
    voting = build_ensembles(trials, data, _config("classification", "AUC_weighted", enable_stack_ensemble=False),
                             workers=1)[0]
    assert voting.model == VOTING and voting.iteration == len(trials)
    assert voting.score >= max(t.score for t in trials)
    assert voting.params["ensembled_iterations"] == list(voting.ensemble.iterations)
    # the blend of the members' predictions is what the fitted estimator predicts
    train_idx, valid_idx = data.splits[0]
    fitted = fit_many(data, trials, train_idx, seed=0, n_jobs=1)
    est = assemble(voting, fitted, data)
    expected = sum(w * fitted[i].predict_proba(data.X[valid_idx])
                   for i, w in zip(voting.ensemble.iterations, voting.ensemble.weights))
    np.testing.assert_allclose(est.predict_proba(data.X[valid_idx]), expected, rtol=1e-12)
    assert set(est.predict(data.X[valid_idx])) <= {"malignant", "benign"}


def test_a_single_model_gets_no_ensemble():
    data = _data(load_breast_cancer, "classification")
    trials = _trials(data, "accuracy")[:1]
    assert build_ensembles(trials, data, _config("classification", "accuracy"), workers=1) == []


def test_ties_go_to_the_better_single_model():
    data = _data(load_iris, "classification")
    trials = _trials(data, "accuracy")
    # a perfect duplicate of the best model, ranked after it: never picked over the original
    best = min(trials, key=lambda t: (t.loss, t.iteration))
    twin = evaluate(Candidate(99, best.model, best.params), data, "accuracy", seed=0)
    chosen = caruana([*trials, twin], data, "accuracy", iterations=15)
    assert 99 not in chosen.iterations and best.iteration in chosen.iterations


@pytest.mark.parametrize("holdout", [False, True])
@pytest.mark.parametrize("meta", ["LogisticRegression", "LogisticRegressionCV", "LightGBMClassifier"])
def test_stack_predicts_calibrated_probabilities(holdout, meta):
    data = _data(load_iris, "classification", holdout=holdout, labels=["setosa", "versicolor", "virginica"])
    trials = _trials(data, "AUC_weighted")
    config = _config("classification", "AUC_weighted", stack_meta_learner_type=meta)
    ensembles = build_ensembles(trials, data, config, workers=2)
    stack = next(e for e in ensembles if e.model == STACK)
    assert stack.params["meta_learner"] == meta and np.isfinite(stack.score)
    valid = data.splits[0][1]
    assert np.allclose(stack.oof[valid].sum(axis=1), 1.0, atol=1e-5)
    fitted = fit_many(data, trials, None, seed=0, n_jobs=1)
    proba = assemble(stack, fitted, data).predict_proba(data.X)
    assert proba.shape == (data.n_rows, 3) and np.allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("meta", ["ElasticNet", "ElasticNetCV", "LightGBMRegressor", "LinearRegression"])
def test_regression_stack_meta_learners(meta):
    data = _data(load_diabetes, "regression")
    trials = _trials(data, "r2_score")
    config = _config("regression", "r2_score", stack_meta_learner_type=meta, stack_meta_learner_kwargs={})
    stack = next(e for e in build_ensembles(trials, data, config, workers=1) if e.model == STACK)
    assert stack.score > 0.3  # diabetes: single models reach ~0.45


def test_meta_learner_must_fit_the_task():
    with pytest.raises(ConfigError, match="stack_meta_learner_type.*ElasticNet"):
        AutoMLConfig(task="classification", stack_meta_learner_type="ElasticNet")
    assert not AutoMLConfig(task="classification", enable_onnx_compatible_models=True).stack_enabled
    assert AutoMLConfig(task="regression").meta_learner == "ElasticNetCV"
