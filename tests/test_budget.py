"""The budget rules: pure functions, checked without Spark."""

import pytest

from spark_automl import ConfigError
from spark_automl import budget
from spark_automl.search.trial import OK, TrialResult


def _trial(iteration, loss, fit_seconds):
    return TrialResult(iteration, "LightGBM", {}, "portfolio", OK, loss=loss, fit_seconds=fit_seconds)


def test_parallel_refit_never_beats_the_longest_fit():
    assert budget.parallel_seconds([10.0, 1.0, 1.0], 4) == 10.0
    assert budget.parallel_seconds([4.0, 4.0, 4.0, 4.0], 2) == 8.0
    assert budget.parallel_seconds([], 2) == 0.0


def test_reserve_grows_with_the_likely_ensemble_members():
    reserve = budget.FinishReserve(n_splits=3, workers=1, ensembles=True, fixed_seconds=5.0)
    assert reserve(_trial(0, 0.5, 3.0)) == pytest.approx(budget.REFIT_SAFETY * 1.0 + 5.0)
    assert reserve(_trial(1, 0.4, 6.0)) == pytest.approx(budget.REFIT_SAFETY * 3.0 + 5.0)
    single = budget.FinishReserve(n_splits=3, workers=1, ensembles=False, fixed_seconds=0.0)
    single(_trial(0, 0.5, 30.0))
    assert single(_trial(1, 0.1, 3.0)) == pytest.approx(budget.REFIT_SAFETY * 1.0)  # only the best is refit


def test_reserve_grows_with_the_size_of_the_models_it_will_log():
    """A forest of a few hundred MB takes seconds to serialize, check and copy: the reserve counts it for
    the likely members (all of the best few with ensembles, the best alone without)."""
    mb = 2**20
    big, small = _trial(0, 0.2, 0.0), _trial(1, 0.3, 0.0)
    big.model_bytes, small.model_bytes = 200 * mb, 10 * mb
    big.model_objects, small.model_objects = 45_000, 100  # a 500-tree forest, a booster
    both = budget.FinishReserve(n_splits=3, workers=1, ensembles=True, fixed_seconds=0.0)
    both(big)
    per_mb, per_object = budget.LOGGING_SECONDS_PER_MB * 1.5, budget.LOGGING_SECONDS_PER_OBJECT  # 3 folds: 3/2 the rows
    assert both(small) == pytest.approx(210 * per_mb + 45_100 * per_object)
    alone = budget.FinishReserve(n_splits=3, workers=1, ensembles=False, fixed_seconds=0.0)
    alone(small)
    assert alone(big) == pytest.approx(200 * per_mb + 45_000 * per_object)
    assert 3.0 < budget.logging_seconds([0], [45_000]) < 5.0  # one skops dump and one load over the forest
    assert budget.logging_seconds([]) == 0.0


def test_a_refit_forest_grows_with_the_rows_it_sees():
    """Full-depth trees on all rows hold k/(k-1) the leaves of a k-fold model: 1.5x at 3 folds (wine's
    five forests logged ~3 s slower than a 1.3x estimate said); never less than REFIT_SAFETY."""
    assert budget.row_growth(3) == pytest.approx(1.5)
    assert budget.row_growth(10) == budget.row_growth(1) == budget.REFIT_SAFETY
    grown, objects = budget.refit_footprint(100 * 2**20, 45_000, 3)  # objects do not grow, bytes do
    assert (grown, objects) == (pytest.approx(150 * 2**20), 45_000)
    assert budget.logging_seconds([grown]) == pytest.approx(1.5 * budget.logging_seconds([100 * 2**20]))


def test_trial_limit_names_the_binding_limit():
    assert budget.trial_limit(None, None) == (None, "")
    seconds, reason = budget.trial_limit(60.0, 1000.0 + 10.0, now=1000.0)
    assert seconds == pytest.approx(10.0 + budget.TRIAL_GRACE_SECONDS) and reason.startswith("experiment_timeout")
    assert budget.trial_limit(5.0, 1000.0 + 100.0, now=1000.0) == (5.0, "iteration_timeout_minutes")


def test_a_budget_too_small_for_what_was_asked_names_the_smallest_that_would_do():
    needed = budget.minimum_budget_seconds(explain=True, onnx=True)
    with pytest.raises(ConfigError, match=rf"experiment_timeout_minutes={needed / 60:.2f}") as err:
        budget.check_budget(needed - 1, explain=True, onnx=True)
    assert "model_explainability" in str(err.value) and "enable_onnx_compatible_models" in str(err.value)
    budget.check_budget(needed, explain=True, onnx=True)
    budget.check_budget(None, explain=True, onnx=True)
    assert budget.minimum_budget_seconds(explain=False, onnx=False) < needed


def test_the_explanation_reserve_grows_with_the_columns_explained():
    narrow = budget.fixed_finish_seconds(ensembles=True, explain=True, onnx=False, explained_columns=20)
    wide = budget.fixed_finish_seconds(ensembles=True, explain=True, onnx=False, explained_columns=80)
    assert wide - narrow == pytest.approx(60 * budget.EXPLAIN_SECONDS_PER_COLUMN)
    assert budget.fixed_finish_seconds(ensembles=True, explain=False, onnx=False, explained_columns=80) < narrow


def test_the_cost_model_caps_a_trial_by_the_median_and_lets_costs_grow_step_by_step():
    assert budget.cost_cap([1.0, 2.0]) is None  # too few successful trials to judge
    assert budget.cost_cap([1.0, 1.0, 1.0]) == budget.COST_CAP_MIN_SECONDS
    assert budget.cost_cap([3.0, 4.0, 5.0]) == pytest.approx(budget.COST_CAP_FACTOR * 4.0)
    # one slow success raises the cap to twice its own cost: slower configurations stay reachable
    assert budget.cost_cap([1.0, 1.0, 1.0, 40.0]) == pytest.approx(budget.COST_GROWTH * 40.0)
    seconds, reason = budget.trial_limit(None, 1000.0 + 300.0, now=1000.0, cap=24.0)
    assert seconds == 24.0 and "cost model" in reason
    assert budget.trial_limit(5.0, None, cap=24.0) == (5.0, "iteration_timeout_minutes")


def test_the_stopper_feeds_the_cost_model_with_successful_trials_only():
    from spark_automl.search.stopping import Stopper
    from spark_automl.search.trial import TIMED_OUT

    stopper = Stopper("AUC_weighted", max_iterations=100, timeout=600.0)
    for i, (status, seconds) in enumerate([(OK, 2.0), (TIMED_OUT, 90.0), (OK, 3.0), (OK, 4.0)]):
        stopper.observe(TrialResult(i, "LightGBM", {}, "tpe", status, loss=0.1, duration=seconds))
    assert stopper.durations == [2.0, 3.0, 4.0]
    assert stopper.trial_cap() == pytest.approx(max(budget.COST_CAP_FACTOR * 3.0, budget.COST_GROWTH * 4.0))
    assert Stopper("AUC_weighted", max_iterations=100).trial_cap() is None  # no budget, no cap


def test_the_search_gets_back_the_seconds_of_a_slow_trial_that_leaves_the_best_few():
    """The reserve follows the likely members: once cheaper, better trials push a slow one out of the best
    few, its refit is no longer kept back and the search deadline moves later again."""
    from spark_automl.search.stopping import Stopper

    stopper = Stopper("r2_score", 100, timeout=100.0, start=0.0, reserve=budget.initial_reserve(100.0),
                      reserve_for=budget.FinishReserve(n_splits=3, workers=1, ensembles=False, fixed_seconds=5.0))
    stopper.observe(_trial(0, 0.5, 30.0))
    assert stopper.deadline == pytest.approx(100.0 - 5.0 - budget.REFIT_SAFETY * 10.0)
    stopper.observe(_trial(1, 0.4, 3.0))
    assert stopper.deadline == pytest.approx(100.0 - 5.0 - budget.REFIT_SAFETY * 1.0)


def test_reserve_prices_the_members_the_ensemble_selection_would_refit(monkeypatch):
    """The best eight overprice a selection that keeps one forest (mammography ended 18% early): with the
    task's selection the reserve prices its members, chosen again at most every RESELECT_SECONDS, plus a new
    best trial that arrives in between."""
    clock = [0.0]
    refit = lambda seconds: budget.refit_seconds(seconds, 3)  # noqa: E731
    monkeypatch.setattr(budget.time, "monotonic", lambda: clock[0])
    calls = []

    def select(results):
        calls.append(len(results))
        return (1,) if len(results) >= 2 else ()

    reserve = budget.FinishReserve(n_splits=3, workers=1, ensembles=True, fixed_seconds=0.0, select=select)
    plain = budget.FinishReserve(n_splits=3, workers=1, ensembles=True, fixed_seconds=0.0)
    slow, chosen = _trial(0, 0.30, 20.0), _trial(1, 0.35, 2.0)
    assert reserve(slow) == plain(slow) == pytest.approx(refit(20.0))  # no selection yet
    clock[0] = budget.RESELECT_SECONDS
    assert reserve(chosen) == pytest.approx(refit(2.0))  # the selection keeps trial 1 alone
    assert plain(chosen) == pytest.approx(refit(20.0) + refit(2.0))
    best = _trial(2, 0.10, 4.0)
    clock[0] += 1.0  # too soon to select again: the cached choice, plus the new best
    assert reserve(best) == pytest.approx(refit(2.0) + refit(4.0)) and calls == [1, 2]
    clock[0] += budget.RESELECT_SECONDS
    reserve(_trial(3, 0.9, 1.0))
    assert calls == [1, 2, 4]
    alone = budget.FinishReserve(n_splits=3, workers=1, ensembles=False, fixed_seconds=0.0, select=select)
    alone(slow)
    assert alone(chosen) == pytest.approx(refit(20.0)) and calls == [1, 2, 4]  # no ensembles
