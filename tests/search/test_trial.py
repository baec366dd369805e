"""Evaluators: one candidate in, one TrialResult out, honouring mem_in_mb before any fit."""

import pickle

import numpy as np
import pytest

from spark_automl.data.prepare import SearchData
from spark_automl.search.trial import FAILED, OK, MEMORY_FACTOR, Candidate, TabularEvaluator, pickled_footprint


def _data(n=400, d=50):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(np.float64)
    y = (X[:, 0] + 0.1 * rng.normal(size=n) > 0).astype(int)
    folds = np.arange(n) % 3
    splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(3)]
    return SearchData("classification", X, y, None, splits, [0, 1], None)


def test_mem_in_mb_refuses_a_trial_that_would_not_fit_before_fitting_anything():
    data = _data()
    needed_mb = MEMORY_FACTOR * data.X.nbytes / 2**20  # about 0.46 MB
    cand = Candidate(0, "LogisticRegression", {"C": 1.0})
    refused = TabularEvaluator(data, "accuracy", seed=0)
    refused.mem_in_mb = 0.1  # below the estimate (the config only accepts ints >= 1; the rule is the same)
    result = refused(cand)
    assert result.status == FAILED and "mem_in_mb=0.1" in result.error and result.fit_seconds == 0.0
    assert needed_mb > 0.1
    ok = TabularEvaluator(data, "accuracy", mem_in_mb=1)(cand)
    assert ok.status == OK and ok.score > 0.9


def test_an_evaluator_pickles_and_gives_the_same_result_after_the_round_trip():
    ev = TabularEvaluator(_data(), "AUC_weighted", seed=7)
    cand = Candidate(3, "ExtremeRandomTrees", {"n_estimators": 20})
    first, second = ev(cand), pickle.loads(pickle.dumps(ev))(cand)
    assert first.status == second.status == OK
    np.testing.assert_array_equal(first.oof, second.oof)
    assert first.metrics == second.metrics


def test_a_trial_reports_its_fitted_models_pickled_footprint_and_a_forest_grows_with_its_trees():
    ev = TabularEvaluator(_data(), "AUC_weighted", seed=0)
    few, many = (ev(Candidate(i, "ExtremeRandomTrees", {"n_estimators": n})) for i, n in ((0, 10), (1, 40)))
    assert few.status == many.status == OK
    assert 0 < few.model_bytes and 3 * few.model_bytes < many.model_bytes < 5 * few.model_bytes
    assert 0 < few.model_objects and 3 * few.model_objects < many.model_objects < 5 * few.model_objects
    payload = {"a": [str(i) for i in range(1000)]}
    size, objects = pickled_footprint(payload)
    assert size == len(pickle.dumps(payload, protocol=5)) and objects >= 1002  # the dict, the list, its strings
    assert pickled_footprint(lambda: None) == (0, 0)  # what cannot be pickled has no estimate, and no error
    # arrays past pickle's frame size are written as a PickleBuffer (a large forest's node arrays): they count
    # too (they had no len(), so a 200 MB ExtraTrees measured 0 bytes and its logging went unreserved)
    big = np.zeros(2**20)
    assert pickled_footprint(big)[0] == len(pickle.dumps(big, protocol=5)) > 8 * 2**20


def test_auto_backend_uses_executors_when_the_session_has_them():
    from spark_automl.search.backends import LOCAL_MAX_CELLS, choose_backend

    assert choose_backend("auto", 1000, 10, "local[2]")[0] == "local"
    assert choose_backend("auto", LOCAL_MAX_CELLS, 2, "local[*]")[0] == "pandas_udf"  # large data, local master
    name, why = choose_backend("auto", 1000, 10, "local-cluster[2,1,1024]")
    assert name == "pandas_udf" and "executors" in why
    assert choose_backend("auto", 10, 1, "yarn")[0] == "pandas_udf"
    assert choose_backend("spark_trials", 10, 1, "local[2]") == ("spark_trials", "backend='spark_trials' was asked for")


def test_a_cross_validated_trial_is_scored_on_its_pooled_out_of_fold_predictions():
    """Pooled, not fold by fold and averaged: pooled AUC ranks every pair of rows, a fold's only the pairs inside
    it, and on small folds that noise moved the search more than the folds' differing probability scales
    (benchmarks/results/sa_only_per_fold.md). The two differ here: early stopping ends each fold elsewhere."""
    from sklearn.datasets import make_classification
    from sklearn.metrics import r2_score, roc_auc_score

    from spark_automl.search.trial import evaluate

    X, y = make_classification(600, 8, n_informative=3, weights=[0.85], flip_y=0.1, random_state=4)
    idx = np.arange(600)
    splits = [(idx[idx % 3 != f], idx[idx % 3 == f]) for f in range(3)]
    data = SearchData("classification", X.astype(np.float32), y, None, splits, [0, 1], None, positive_label=1)
    result = evaluate(Candidate(0, "LightGBM", {"n_estimators": 1000, "learning_rate": 0.3, "num_leaves": 8}),
                      data, "AUC_weighted")
    per_fold = np.mean([roc_auc_score(y[v], result.oof[v, 1]) for _, v in splits])
    assert result.score == pytest.approx(roc_auc_score(y, result.oof[:, 1]), abs=1e-6)
    assert abs(result.score - per_fold) > 1e-3
    target = np.asarray(X[:, 0] * 3 + X[:, 1] ** 2, dtype=float)
    regression = SearchData("regression", X.astype(np.float32), target, None, splits, None, float(np.ptp(target)))
    fitted = evaluate(Candidate(0, "ElasticNet", {}), regression, "r2_score")
    assert fitted.score == pytest.approx(r2_score(target, fitted.oof), abs=1e-6)
