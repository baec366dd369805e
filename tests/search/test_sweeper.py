"""Sweeper (portfolio then TPE), stopping rules and the trial function, without Spark."""

import time

import numpy as np
import pytest

from spark_automl.data.prepare import SearchData
from spark_automl.models import REGISTRY
from spark_automl.search.stopping import Stopper
from spark_automl.search.sweeper import Sweeper, portfolio
from spark_automl.search.trial import FAILED, OK, TIMED_OUT, Candidate, TrialResult, evaluate


def _specs(*names):
    return [REGISTRY.get(n, "classification") for n in names]


def test_portfolio_runs_before_tpe_and_respects_priorities():
    specs = _specs("LightGBM", "LogisticRegression", "DecisionTree")
    sweeper = Sweeper(specs, seed=0)
    expected = portfolio(specs)
    cands = sweeper.ask(len(expected) + 3)
    assert [(c.model, dict(c.params)) for c in cands[: len(expected)]] == expected
    assert [c.origin for c in cands] == ["portfolio"] * len(expected) + ["tpe"] * 3
    assert [c.iteration for c in cands] == list(range(len(cands)))
    assert cands[0].model == "LightGBM" and cands[0].params == {}


def test_tpe_proposals_stay_inside_the_declared_space_and_are_seeded():
    def run(seed):
        sweeper = Sweeper(_specs("LightGBM", "LogisticRegression"), seed=seed)
        out = []
        for _ in range(12):
            (c,) = sweeper.ask(1)
            out.append((c.model, tuple(sorted(c.params.items()))))
            sweeper.tell(TrialResult(c.iteration, c.model, dict(c.params), c.origin, OK, loss=len(out) % 5))
        return out

    first, again, other = run(3), run(3), run(4)
    assert first == again and first != other
    for model, params in first:
        spec = REGISTRY.get(model, "classification")
        for key, value in params:
            assert spec.space[key].contains(value), (model, key, value)


def test_failed_trials_are_told_as_failures():
    sweeper = Sweeper(_specs("LightGBM"), seed=0)
    (c,) = sweeper.ask(1)
    sweeper.tell(TrialResult(c.iteration, c.model, {}, c.origin, FAILED))
    assert sweeper.trials.trials[0]["result"]["status"] == "fail"


def _result(i, loss, status=OK):
    return TrialResult(i, "LightGBM", {}, "tpe", status, loss=loss)


def test_stopper_rules():
    s = Stopper("accuracy", max_iterations=3)
    for i in range(3):
        assert s.should_stop() is None
        s.observe(_result(i, -0.5))
    assert "iterations" in s.should_stop()

    s = Stopper("accuracy", max_iterations=100, exit_score=0.9)
    s.observe(_result(0, -0.8))
    assert s.should_stop() is None
    s.observe(_result(1, -0.95))
    assert "experiment_exit_score" in s.should_stop()

    s = Stopper("normalized_root_mean_squared_error", max_iterations=100, exit_score=0.1)
    s.observe(_result(0, 0.05))
    assert "exit_score" in s.should_stop()

    s = Stopper("accuracy", max_iterations=1000)
    s.observe(_result(0, -0.9))
    for i in range(1, 19):
        s.observe(_result(i, -0.5))
    assert s.should_stop() is None  # 18 without improvement, but never before 20 iterations
    s.observe(_result(19, -0.5))
    assert "early stopping" in s.should_stop()

    s = Stopper("accuracy", max_iterations=1000, timeout=0.05)
    time.sleep(0.06)
    assert "timeout" in s.should_stop()


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = np.where(X[:, 0] > 0, 1, 0)
    folds = np.arange(200) % 3
    splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(3)]
    return SearchData("classification", X, y, None, splits, [0, 1], None)


def test_trial_returns_metrics_and_oof_predictions():
    res = evaluate(Candidate(0, "LogisticRegression", {"C": 1.0}), _data(), "AUC_weighted")
    assert res.status == OK and res.score > 0.95 and res.loss == pytest.approx(-res.score)
    assert res.oof.shape == (200, 2) and not np.isnan(res.oof).any()
    assert {"accuracy", "log_loss", "norm_macro_recall"} <= set(res.metrics)


def test_trial_failure_is_recorded_not_raised():
    res = evaluate(Candidate(0, "LightGBM", {"num_leaves": -3}), _data(), "accuracy")
    assert res.status == FAILED and "num_leaves" in res.error


def test_trial_timeout_is_recorded():
    res = evaluate(Candidate(0, "RandomForest", {"n_estimators": 3000}), _data(), "accuracy", timeout=0.2)
    assert res.status == TIMED_OUT
    # stopped at the 0.2 s limit while the first fold was still fitting, not after waiting for the fits:
    # nothing came back from the folds
    assert "trial stopped after 0.2 s" in res.error
    assert res.oof is None and res.metrics == {} and res.fit_seconds == 0.0


def test_trial_timeout_names_the_limit_that_stopped_it():
    res = evaluate(Candidate(0, "RandomForest", {"n_estimators": 3000}), _data(), "accuracy", timeout=0.2,
                   timeout_reason="experiment_timeout_minutes (remaining budget)")
    assert res.status == TIMED_OUT and "experiment_timeout_minutes" in res.error


def test_pandas_udf_batches_are_balanced_by_observed_cost():
    from spark_automl.search.backends.pandas_udf import PandasUDFBackend

    backend = PandasUDFBackend(spark=object())
    backend._seconds = {"RandomForest": [4.0], "LightGBM": [1.0], "LogisticRegression": [0.1]}
    cands = [Candidate(i, m, {}) for i, m in enumerate(
        ["RandomForest", "RandomForest", "LightGBM", "LightGBM", "LogisticRegression", "LogisticRegression"])]
    tasks = backend._balance(cands, 2)
    load = [sum(backend._seconds[c.model][0] for c, t in zip(cands, tasks) if t == k) for k in range(2)]
    assert load == [5.1, 5.1]  # one forest, one LightGBM, one linear model per task
    assert backend._balance(cands[:1], 2) == [0]


def test_models_without_hyperparameters_run_once_and_tpe_searches_the_rest():
    stats = [REGISTRY.get(n, "forecasting") for n in ("Naive", "SeasonalNaive")]
    learner = REGISTRY.get("ElasticNet", "regression")
    queue = [("Naive", {}), ("ElasticNet", {}), ("SeasonalNaive", {})]
    sweeper = Sweeper([*stats, learner], seed=0, queue=queue)
    first = sweeper.ask(3)
    assert [c.model for c in first] == ["Naive", "ElasticNet", "SeasonalNaive"]
    for i, c in enumerate(first):
        sweeper.tell(TrialResult(c.iteration, c.model, dict(c.params), c.origin, OK, loss=0.1 * (i + 1)))
    later = sweeper.ask(12)
    assert len(later) == 12 and {c.model for c in later} == {"ElasticNet"}
    assert all(c.origin == "tpe" for c in later)
    only_fixed = Sweeper(stats, seed=0, queue=[("Naive", {}), ("SeasonalNaive", {})])
    assert [c.model for c in only_fixed.ask(5)] == ["Naive", "SeasonalNaive"]
    assert only_fixed.ask(5) == []  # nothing left to search: the search ends, no model runs twice


def test_a_tpe_proposal_of_an_evaluated_point_is_answered_from_memory():
    spec = REGISTRY.get("KNN", "classification")  # weights is a choice: TPE repeats points often
    sweeper = Sweeper([spec], seed=0, n_startup_jobs=2)
    seen = set()
    for _ in range(15):
        (c,) = sweeper.ask(1)
        key = (c.model, tuple(sorted(c.params.items())))
        assert key not in seen, f"proposed twice: {key}"
        seen.add(key)
        sweeper.tell(TrialResult(c.iteration, c.model, dict(c.params), c.origin, OK,
                                 loss=float(c.params.get("n_neighbors", 15))))
