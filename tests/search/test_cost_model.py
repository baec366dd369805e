"""The cost model's per-trial cap, end to end on the driver backend (real fits, no Spark)."""

import numpy as np

from spark_automl import budget
from spark_automl.data.prepare import SearchData
from spark_automl.models import REGISTRY
from spark_automl.search.backends.base import TrialContext
from spark_automl.search.backends.local import LocalBackend
from spark_automl.search.stopping import Stopper
from spark_automl.search.sweeper import Sweeper
from spark_automl.search.trial import OK, TIMED_OUT, TabularEvaluator


def _data() -> SearchData:
    """3,000 rows, 20 features, 3 folds: a deep 400-tree forest takes seconds, a logistic regression not."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 20))
    y = (X[:, 0] + rng.normal(size=3000) > 0).astype(int)
    folds = np.arange(3000) % 3
    return SearchData("classification", X, y, None,
                      [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(3)], [0, 1], None)


def test_a_trial_far_slower_than_the_ones_before_it_is_stopped_by_the_cost_models_cap(monkeypatch):
    # fault injection: a tiny floor and no slack, so that a forest of 400 deep trees is "far slower"
    # than three logistic regressions
    monkeypatch.setattr(budget, "COST_CAP_MIN_SECONDS", 0.3)
    monkeypatch.setattr(budget, "COST_CAP_FACTOR", 1.0)
    monkeypatch.setattr(budget, "COST_GROWTH", 1.0)
    data = _data()
    queue = [("LogisticRegression", {"C": c}) for c in (0.1, 1.0, 10.0)] + \
        [("RandomForest", {"n_estimators": 400, "max_features": 1.0, "min_samples_leaf": 1})]
    specs = [REGISTRY.get(n, "classification") for n in ("LogisticRegression", "RandomForest")]
    stopper = Stopper("AUC_weighted", max_iterations=4, timeout=600.0, early_stopping=False)
    results = []  # (the backend tells the stopper itself)
    LocalBackend().run(Sweeper(specs, seed=0, queue=queue), TabularEvaluator(data, "AUC_weighted"),
                       TrialContext(concurrency=1, trial_timeout=None), stopper, results.extend)
    by_model = {r.model: r for r in results}
    assert [r.status for r in results if r.model == "LogisticRegression"] == [OK] * 3
    assert by_model["RandomForest"].status == TIMED_OUT
    assert "cost model" in by_model["RandomForest"].error


def test_a_spark_trials_task_stops_a_trial_at_the_cap_the_driver_gave_it():
    """spark_trials runs each trial in hyperopt's own Spark job; the objective carries the cap the driver held
    when the trial started and applies the same limit as the other backends (here called as a task would)."""
    from spark_automl.search.backends.spark_trials import _in_task
    from spark_automl.search.trial import Candidate

    data = _data()
    evaluator = TabularEvaluator(data, "AUC_weighted")
    slow = Candidate(0, "RandomForest", {"n_estimators": 400, "max_features": 1.0, "min_samples_leaf": 1})
    capped = _in_task(evaluator, slow, None, deadline=None, cap=0.3)
    assert capped.status == TIMED_OUT and "cost model" in capped.error
    fast = _in_task(evaluator, Candidate(1, "LogisticRegression", {"C": 1.0}), None, deadline=None, cap=30.0)
    assert fast.status == OK
