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
