"""The benchmark harness's scoring (benchmarks/_common.py): what the closing notes' margins rest on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import _common as C  # noqa: E402

BINARY = C.Dataset("toy_binary", "y", "binary")
MULTICLASS = C.Dataset("toy_multi", "y", "multiclass")
REGRESSION = C.Dataset("toy_reg", "y", "regression")


def _binary_parts(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.2, "yes", "no")
    part = pd.DataFrame({"x": rng.normal(size=n), "y": y})
    return part.iloc[: n // 2].reset_index(drop=True), part.iloc[n // 2:].reset_index(drop=True)


def test_identical_outputs_have_a_zero_interval():
    train, test = _binary_parts()
    output = np.random.default_rng(1).random((len(test), 2))
    assert C.margin_interval(BINARY, train, test, output, output.copy(), resamples=200) == (0.0, 0.0)


def test_the_interval_sides_with_the_better_model_and_is_reproducible():
    train, test = _binary_parts()
    positive = (test["y"] == "yes").to_numpy()
    rng = np.random.default_rng(2)
    good = np.column_stack([1 - positive, positive]) * 0.6 + rng.random((len(test), 2)) * 0.4  # AUC near 1
    noise = rng.random((len(test), 2))  # AUC near 0.5
    low, high = C.margin_interval(BINARY, train, test, good, noise, resamples=300)
    assert 0 < low < high
    assert C.margin_interval(BINARY, train, test, noise, good, resamples=300)[1] < 0
    assert C.margin_interval(BINARY, train, test, good, noise, resamples=300) == (low, high)


def test_close_models_on_a_small_test_part_get_an_interval_spanning_zero():
    """Two models 0.006 AUC apart on ~50 positives (mammography's test part): not told apart."""
    rng = np.random.default_rng(3)
    n = 2000
    positive = rng.random(n) < 0.025
    signal = positive * 2.3 + rng.normal(size=n)
    ours = signal + rng.normal(scale=0.25, size=n)
    theirs = signal + rng.normal(scale=0.25, size=n)
    test = pd.DataFrame({"y": np.where(positive, 1, 0)})
    as_proba = lambda s: np.column_stack([1 - s, s])  # noqa: E731 - the score reads column 1
    margin = C.score_output(BINARY, test, test, as_proba(ours)) - C.score_output(BINARY, test, test, as_proba(theirs))
    low, high = C.margin_interval(BINARY, test, test, as_proba(ours), as_proba(theirs), resamples=300)
    assert low < 0 < high
    assert low <= margin <= high


def test_multiclass_resamples_keep_a_rare_class():
    """A class of two test rows stays in every resample: one-vs-rest AUC needs every class."""
    y = np.array(["a"] * 60 + ["b"] * 38 + ["c"] * 2)
    test = pd.DataFrame({"y": y})
    rng = np.random.default_rng(4)
    ours, theirs = rng.random((100, 3)), rng.random((100, 3))
    low, high = C.margin_interval(MULTICLASS, test, test, ours, theirs, resamples=100)
    assert np.isfinite(low) and np.isfinite(high) and low <= high


def test_regression_margin_interval_is_in_r2():
    rng = np.random.default_rng(5)
    y = rng.normal(size=300)
    test = pd.DataFrame({"y": y})
    ours, theirs = y + rng.normal(scale=0.1, size=300), y + rng.normal(scale=1.0, size=300)
    low, high = C.margin_interval(REGRESSION, test, test, ours, theirs, resamples=200)
    r2_ours, r2_theirs = C.score_output(REGRESSION, test, test, ours), C.score_output(REGRESSION, test, test, theirs)
    assert low <= r2_ours - r2_theirs <= high
    assert low > 0.5  # r2 near 0.99 against near 0


def test_test_output_puts_probabilities_in_sorted_class_order():
    """A peer listing its classes in another order is scored on the same columns as ours."""
    train, test = _binary_parts()

    yes = np.where(test["y"] == "yes", 0.45, 0.3) + np.linspace(0, 0.3, len(test))  # mostly, not fully, right

    class Reversed:
        classes_ = ["yes", "no"]

        def predict_proba(self, X):
            return np.column_stack([yes, 1 - yes])  # column 0 is "yes"

    output = C.test_output(BINARY, train, test, Reversed())
    assert output.shape == (len(test), 2)
    np.testing.assert_allclose(output[:, 1], yes)  # "yes" is the second sorted class
    from sklearn.metrics import roc_auc_score  # the score reads the "yes" column, whatever the peer's order

    expected = roc_auc_score((test["y"] == "yes").astype(int), yes)
    assert 0.8 < expected < 1.0  # read from the "no" column it would be below 0.2
    assert C.score_predictor(BINARY, train, test, Reversed()) == pytest.approx(expected)


# ---- replay_ensemble_choice.py: cross-selection of the voting ensemble and of the single model ---------------
import replay_ensemble_choice as replay  # noqa: E402
from spark_automl.ensemble.selection import caruana  # noqa: E402
from spark_automl.metrics import ValidationTarget  # noqa: E402
from tests.trials import given_trial  # noqa: E402

NRMSE = "normalized_root_mean_squared_error"
STEPS = 15


def _given(iteration: int, prediction, target: ValidationTarget):
    return given_trial(iteration, prediction, target, NRMSE)


def test_selection_parts_deal_every_class_into_every_part_and_cover_the_scored_rows_once():
    y = np.array(["a"] * 5 + ["a"] * 30 + ["b"] * 3 + ["c"] * 12, dtype=object)
    rows = np.arange(5, 50)  # a holdout: predictions are full length, rows 0-4 are not scored
    target = ValidationTarget("classification", y, classes=["a", "b", "c"], rows=rows)
    parts = replay.selection_parts(target, seed=0)
    assert len(parts) == 3 and sorted(np.concatenate(parts).tolist()) == rows.tolist()
    for part in parts:
        assert set(y[part]) == {"a", "b", "c"}  # the rare class too: AUC needs every class
        assert y[part].tolist().count("a") == 10
    assert all(np.array_equal(p, q) for p, q in zip(parts, replay.selection_parts(target, seed=0)))
    assert not all(np.array_equal(p, q) for p, q in zip(parts, replay.selection_parts(target, seed=1)))


def test_cross_selection_is_pessimistic_for_a_blend_of_noise_and_for_a_lucky_single_model():
    """29 candidates = a good model's predictions plus noise. In-sample the greedy blend beats the good model (the
    noise happens to cancel its errors on the rows it chose from); chosen on two thirds and scored on the third,
    it does not. The single model chosen the same way is the good one on every part here, so its cross-selected
    score is its own."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=90)
    target = ValidationTarget("regression", y, y_range=float(np.ptp(y)))
    prediction = y + rng.normal(scale=0.5, size=90)
    good = _given(0, prediction, target)
    noisy = [_given(i, prediction + rng.normal(scale=0.5, size=90), target) for i in range(1, 30)]
    assert caruana([good, *noisy], target, NRMSE, STEPS).loss < good.loss - 0.003
    crossed_voting = replay.cross_selected([good, *noisy], target, NRMSE, 0, replay.voting_choice(NRMSE, STEPS))
    crossed_single = replay.cross_selected([good, *noisy], target, NRMSE, 0, replay.single_choice)
    assert crossed_voting > good.loss + 0.003  # NRMSE: greater is worse
    assert crossed_single == pytest.approx(good.loss)


def test_a_model_that_explodes_on_one_row_is_caught_by_cross_selection():
    """Best on all rows but one, wildly wrong there (ames_housing's FastLinearRegressor predicted 2.6 M for a
    house): the parts chosen without that row pick it, and the part with it pays."""
    rng = np.random.default_rng(1)
    y = rng.normal(size=120)
    target = ValidationTarget("regression", y, y_range=float(np.ptp(y)))
    steady = _given(0, y + rng.normal(scale=0.3, size=120), target)
    exploding = y + rng.normal(scale=0.1, size=120)
    exploding[50] += 40.0
    bad = _given(1, exploding, target)
    assert bad.loss > steady.loss  # in-sample the steady model wins on its own
    crossed = replay.cross_selected([steady, bad], target, NRMSE, 0, replay.single_choice)
    assert crossed > steady.loss + 0.01
