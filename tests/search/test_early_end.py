"""A search that stops with budget left says how much, why, and which setting would spend it."""

from spark_automl.search.stopping import early_end_note


def test_each_early_end_names_the_setting_that_would_spend_the_rest():
    assert "enable_early_stopping=False" in early_end_note(
        "early stopping: no improvement in the last 10 iterations", 46.0, 120.0)
    assert "raise iterations" in early_end_note("iterations reached (4)", 30.0, 120.0)
    assert "as experiment_exit_score asks" in early_end_note("experiment_exit_score 0.9 reached (0.91)", 50.0, 120.0)
    assert early_end_note("search space exhausted", 20.0, 120.0).startswith("The search ended 20s before its deadline")


def test_no_note_without_a_budget_little_left_or_a_timeout():
    assert early_end_note("iterations reached (4)", 30.0, None) is None
    assert early_end_note("iterations reached (4)", 5.0, 120.0) is None  # under 5% of the budget
    assert early_end_note("experiment timeout reached (2 min)", 30.0, 120.0) is None
