"""Boosting trials stop on each validation fold; the final model is refit with the rounds found."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from spark_automl.data.prepare import SearchData
from spark_automl.search import trial
from spark_automl.search.trial import Candidate, evaluate, searched_params


def _folds(n: int, k: int = 3):
    idx = np.arange(n)
    return [(idx[idx % k != f], idx[idx % k == f]) for f in range(k)]


def _noisy_classes(n: int = 1500) -> SearchData:
    X, y = make_classification(n, 15, n_informative=4, flip_y=0.25, n_classes=3, random_state=1)
    return SearchData("classification", X.astype(np.float32), np.array(["a", "b", "c"])[y], None, _folds(n),
                      ["a", "b", "c"], None)


CATBOOST = pytest.param("CatBoost", marks=pytest.mark.extra("catboost"))


@pytest.mark.parametrize("model", ["LightGBM", "XGBoostClassifier", CATBOOST])
def test_an_overfitting_cap_stops_early_and_validates_better(model, monkeypatch):
    data = _noisy_classes()
    params = {"n_estimators": 1500, "learning_rate": 0.3}
    stopped = evaluate(Candidate(0, model, params), data, "log_loss")
    info = stopped.details["early_stopping"]
    assert info["max_rounds"] == 1500 and len(info["best_rounds"]) == 3 and max(info["best_rounds"]) < 500
    expected = round(trial.REFIT_ROUNDS_GROWTH * np.mean(info["best_rounds"]))
    assert stopped.params == {"n_estimators": expected, "learning_rate": 0.3}  # what the final refit uses
    assert searched_params(stopped) == params
    monkeypatch.setattr(trial, "EARLY_STOPPING_MIN_ROUNDS", 10**9)  # the same trial growing every tree
    grown = evaluate(Candidate(0, model, params), data, "log_loss")
    assert grown.params == params and "early_stopping" not in grown.details
    assert stopped.score < grown.score  # log loss: early stopping kept the overfit trees out


def test_lightgbm_defaults_run_as_given():
    result = evaluate(Candidate(0, "LightGBM", {}), _noisy_classes(600), "AUC_weighted")
    assert result.status == "ok" and result.params == {} and result.details == {}


@pytest.mark.parametrize("model", ["LightGBM", CATBOOST])
def test_a_class_missing_from_a_training_fold_is_left_out_of_its_stopping_rows(model):
    X, y = make_regression(900, 8, random_state=0)
    labels = np.where(y > 0, "up", "down").astype(object)
    labels[1] = "rare"  # fold 1 validates the only 'rare' row: its training part has no such class
    data = SearchData("classification", X.astype(np.float32), labels, None, _folds(900), ["down", "rare", "up"], None)
    result = evaluate(Candidate(0, model, {"n_estimators": 400}), data, "AUC_weighted")
    assert result.status == "ok", result.error
    assert result.oof.shape == (900, 3) and len(result.details["early_stopping"]["best_rounds"]) == 3


def test_regression_with_target_encoded_codes_stops_too():
    X, y = make_regression(900, 6, noise=20.0, random_state=2)
    X[:, 0] = np.random.default_rng(0).integers(0, 40, 900)  # a code column, target-encoded in each fit
    data = SearchData("regression", X.astype(np.float32), y, None, _folds(900), None, float(np.ptp(y)),
                      code_columns=(0,))
    result = evaluate(Candidate(0, "XGBoostRegressor", {"n_estimators": 800, "learning_rate": 0.3}), data, "r2_score")
    assert result.status == "ok", result.error
    assert result.params["n_estimators"] < 800
