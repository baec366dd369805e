"""Bagged members: a trial's k fold models fit again are the models its validation score came from."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from spark_automl import budget
from spark_automl.data.prepare import SearchData
from spark_automl.ensemble.estimators import BaggedEstimator
from spark_automl.search.trial import Candidate, evaluate, fit_many, predict

from .test_early_stopping import _folds


def _classes(n: int = 900) -> SearchData:
    X, y = make_classification(n, 12, n_informative=5, flip_y=0.1, n_classes=3, random_state=3)
    return SearchData("classification", X.astype(np.float32), np.array(["a", "b", "c"])[y], None, _folds(n),
                      ["a", "b", "c"], None)


def _regression(n: int = 900) -> SearchData:
    X, y = make_regression(n, 10, noise=15.0, random_state=4)
    return SearchData("regression", X.astype(np.float32), y, None, _folds(n), None, float(np.ptp(y)))


@pytest.mark.parametrize("data, model, params, metric", [
    (_classes(), "LightGBM", {"n_estimators": 600, "learning_rate": 0.2}, "AUC_weighted"),  # early-stopped
    (_classes(), "ExtremeRandomTrees", {"n_estimators": 30}, "AUC_weighted"),
    (_regression(), "LightGBM", {"n_estimators": 600, "learning_rate": 0.2}, "r2_score"),
])
def test_fold_models_reproduce_the_trials_out_of_fold_predictions(data, model, params, metric):
    result = evaluate(Candidate(0, model, params), data, metric, seed=7)
    assert result.status == "ok", result.error
    fitted = fit_many(data, [result], None, seed=7, n_jobs=1, workers=2, bagged={0})
    folds = fitted[0]
    assert isinstance(folds, list) and len(folds) == 3
    for est, (_, valid) in zip(folds, data.splits):  # each fold model scores its own validation rows as the trial did
        np.testing.assert_allclose(predict(est, data.task, data.X[valid]), result.oof[valid], rtol=1e-5, atol=1e-6)
    bag = BaggedEstimator.of(folds, model, data.task, data.classes)
    got = predict(bag, data.task, data.X[:50])
    want = np.mean([predict(est, data.task, data.X[:50]) for est in folds], axis=0)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    if data.task == "classification":
        assert list(bag.predict(data.X[:50])) == list(np.asarray(data.classes)[np.argmax(want, axis=1)])


def test_early_stopped_members_refit_with_their_rounds_but_bag_under_the_searched_cap():
    data = _classes()
    result = evaluate(Candidate(0, "LightGBM", {"n_estimators": 600, "learning_rate": 0.2}), data, "AUC_weighted")
    best = result.details["early_stopping"]["best_rounds"]
    fitted = fit_many(data, [result], None, seed=0, n_jobs=1, bagged={0})
    assert [est.estimator_.booster_.best_iteration for est in fitted[0]] == best
    refit = fit_many(data, [result], None, seed=0, n_jobs=1)[0]
    assert refit.estimator_.n_estimators == result.params["n_estimators"] < 600


def test_a_bag_is_priced_as_the_search_fits_and_k_models_to_log():
    assert budget.bag_seconds(6.0) == pytest.approx(budget.BAG_SAFETY * 6.0)
    assert budget.bag_footprint(10, 7, 3) == (30.0, 21.0)
    assert budget.bag_affordable(2**20, 9_000, 3)
    assert not budget.bag_affordable(2**20, 9_000, 1)  # a holdout has one model: nothing to bag
    assert not budget.bag_affordable(200 * 2**20, 100, 3)  # wine_quality_white's 200 MB forests
    assert not budget.bag_affordable(2**20, 45_000, 3)  # a 500-tree forest: 135,000 objects to log
    reserve = budget.FinishReserve(3, 1, False, 0.0, refit_cost=lambda r: 0.0,
                                   footprint=lambda r: budget.bag_footprint(r.model_bytes, r.model_objects, 3))
    plain = budget.FinishReserve(3, 1, False, 0.0, refit_cost=lambda r: 0.0)
    result = evaluate(Candidate(0, "LightGBM", {}), _classes(300), "AUC_weighted")
    assert reserve(result) == pytest.approx(budget.logging_seconds([3 * result.model_bytes], [3 * result.model_objects]))
    assert plain(result) < reserve(result)


def test_spare_seconds_bag_members_in_priority_order_while_each_fits_half_of_what_is_left():
    assert budget.spare_bags([(1, 4.0), (2, 10.0), (3, 2.0)], 12.0) == [1, 3]  # 4 <= 6; 10 > 4; 2 <= 4
    assert budget.spare_bags([(1, 4.0)], 7.0) == []
    assert budget.spare_bags([], 100.0) == []


def _problem(data: SearchData, n_train_rows: int):
    from types import SimpleNamespace

    from spark_automl.tasks.base import Problem

    return Problem(None, data.target, None, len(data.splits), data.n_rows, data.X.shape[1], [], "",
                   SimpleNamespace(n_train_rows=n_train_rows), bag_folds=len(data.splits))


def test_a_member_over_the_caps_is_bagged_only_when_the_refit_has_time_to_spare(monkeypatch):
    from spark_automl.tasks.tabular import TabularTask

    data = _classes(600)
    result = evaluate(Candidate(4, "ExtremeRandomTrees", {"n_estimators": 20}), data, "AUC_weighted")
    monkeypatch.setattr(budget, "BAG_MAX_OBJECTS", result.model_objects)  # k fold models: over the cap
    problem = _problem(data, 600)
    task = TabularTask()
    assert not task.bags(problem, result)
    said = []
    assert task._bags_in_spare_time(problem, result, [result], set(), 600.0, 1, said.append) == {4}
    assert said and "ExtremeRandomTrees 4" in said[0]
    assert task._bags_in_spare_time(problem, result, [result], set(), 0.5, 1, said.append) == set()
    monkeypatch.setattr("spark_automl.tasks.tabular.BAG_HARD_MAX_MB", result.model_bytes * 2 / 2**20)
    assert task._bags_in_spare_time(problem, result, [result], set(), 600.0, 1, said.append) == set()
