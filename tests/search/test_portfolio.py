"""The learned zero-shot portfolio: the greedy selection, the shipped data, and the run order."""

import numpy as np
import pytest

from spark_automl.models import REGISTRY
from spark_automl.search import portfolio as P
from spark_automl.search.sweeper import Sweeper, portfolio
from spark_automl.tasks.tabular import with_searched_choice


def test_regret_is_zero_at_each_datasets_best_and_one_at_its_median_or_on_failure():
    scores = np.array([[0.9, 0.5], [0.8, 0.7], [0.7, np.nan], [0.6, 0.6]])
    r = P.regrets(scores)
    assert r[0, 0] == 0.0 and r[1, 1] == 0.0
    assert r[1, 0] == pytest.approx(0.1 / 0.15)  # median of column 0 is 0.75
    assert r[3, 0] == 1.0 and r[2, 1] == 1.0 and r[0, 1] == 1.0  # below the median, failed


def test_greedy_selection_prefers_complementary_configurations_to_two_good_lookalikes():
    # config 0 is best on datasets A, B; 1 is a near copy of 0; 2 is best on C, D where 0 and 1 are poor.
    scores = np.array([
        [0.95, 0.95, 0.50, 0.50],
        [0.94, 0.94, 0.51, 0.51],
        [0.60, 0.60, 0.90, 0.90],
        [0.70, 0.70, 0.70, 0.70],
        [0.65, 0.65, 0.65, 0.65],
    ])
    assert P.select(scores, k=2) == [0, 2]
    assert P.select(scores, k=2, first=3) == [3, 0]
    assert P.mean_best_regret(scores, [0, 2]).max() == 0.0
    # nothing left to gain after [0, 2]: with a min_gain selection stops short of k, without it fills k
    assert P.select(scores, k=4, min_gain=1e-4) == [0, 2]
    assert len(P.select(scores, k=4)) == 4
    assert P.select(scores, k=3, first=[4, 3]) == [4, 3, 0]  # a given start (the hand-written defaults)


def test_among_equal_gains_the_cheaper_configuration_wins():
    scores = np.array([[0.9, 0.9], [0.9, 0.9], [0.5, 0.5]])
    assert P.select(scores, k=1, costs=[5.0, 1.0, 0.1]) == [1]


def test_leave_one_out_scores_each_dataset_with_a_portfolio_learned_without_it():
    scores = np.array([
        [0.95, 0.95, 0.50],
        [0.60, 0.60, 0.90],
        [0.70, 0.70, 0.70],
    ])
    held_out = P.leave_one_out(scores, k=1)
    # without dataset 2, config 0 (best on 0 and 1) is chosen and is poor on 2; without dataset 0, configs 0
    # and 1 tie and the first (config 0) is chosen, which is best on 0
    assert held_out[2] == 1.0 and held_out[0] == 0.0


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_shipped_portfolio_is_valid_for_the_registry_and_runs_cheapest_first(task):
    entries = P.learned(task)
    assert 3 <= len(entries) <= 16  # a short list: at most the hand-written defaults and a few learned
    assert entries[0] == ("LightGBM", {})  # LightGBM with its default parameters always runs first
    for model, params in entries:
        spec = REGISTRY.get(model, task)
        assert set(params) <= set(spec.space), (model, params)
        assert all(spec.space[p].contains(v) for p, v in params.items()), (model, params)
    costs = [e["relative_cost"] for e in P._shipped()["tasks"][task]]
    assert costs[1:] == sorted(costs[1:])
    assert len(P._shipped()["datasets"]) >= 20  # learned over many datasets, none of the benchmark tables'
    assert not {"adult", "credit_g", "diamonds", "ames_housing"} & {d.split("/")[-1] for d in P._shipped()["datasets"]}


def test_a_tabular_run_tries_every_allowed_model_once_before_any_models_second_entry():
    task = "classification"
    learned = P.learned(task)
    allowed = sorted({m for m, _ in learned} | {"KNN"})
    specs = [REGISTRY.get(n, task) for n in allowed]
    queue = portfolio(specs, task)
    assert queue[0] == ("LightGBM", {})
    for model in {m for m, _ in learned}:  # each model's learned entries keep their shipped (cheapest-first) order
        assert [e for e in queue if e[0] == model] == [e for e in learned if e[0] == model]
    assert ("KNN", dict(REGISTRY.get("KNN", task).defaults[0])) in queue  # an uncovered model: its own default
    firsts = {m: next(i for i, (n, _) in enumerate(queue) if n == m) for m in allowed}
    seconds = [i for i, (m, _) in enumerate(queue) if i != firsts[m]]
    assert max(firsts.values()) < min(seconds)
    # the article's short run: LogisticRegression, LightGBM and DecisionTree in 4 iterations all get a turn
    few = portfolio([REGISTRY.get(n, task) for n in ("LogisticRegression", "LightGBM", "DecisionTree")], task)
    assert {m for m, _ in few[:3]} == {"LogisticRegression", "LightGBM", "DecisionTree"}
    only_forests = [REGISTRY.get("RandomForest", task)]
    learned_forests = [(m, p) for m, p in learned if m == "RandomForest"]
    hand_forests = [("RandomForest", dict(d)) for d in only_forests[0].defaults]
    assert portfolio(only_forests, task) == (learned_forests or hand_forests)
    assert Sweeper(specs, seed=0, task=task).queue == queue
    assert portfolio(specs) != queue  # without a task (forecasting's learners): the hand-written order


def test_variants_run_right_after_the_models_first_entry():
    task = "regression"
    specs = [REGISTRY.get(n, task) for n in ("LightGBM", "RandomForest")]
    offered = with_searched_choice(specs, "target_transform", ("none", "log1p"), lambda s: True,
                                   lambda s: s.name == "LightGBM")
    queue = portfolio(offered, task)
    first = next(i for i, (m, _) in enumerate(queue) if m == "LightGBM")
    assert queue[first + 1] == ("LightGBM", {**queue[first][1], "target_transform": "log1p"})
    assert sum(p.get("target_transform") == "log1p" for _, p in queue) == 1
    assert all("target_transform" in s.space for s in offered) and "target_transform" not in specs[0].space


def test_a_second_choice_also_runs_over_the_first_choices_variant():
    """Native categories and log1p(y) are each tried early on LightGBM's defaults, and so is the pair."""
    task = "regression"
    specs = [REGISTRY.get(n, task) for n in ("LightGBM", "RandomForest")]
    lightgbm = lambda s: s.name == "LightGBM"  # noqa: E731
    offered = with_searched_choice(specs, "categorical", ("onehot", "native"), lightgbm, lightgbm)
    offered = with_searched_choice(offered, "target_transform", ("none", "log1p"), lambda s: True, lightgbm)
    queue = portfolio(offered, task)
    first = next(i for i, (m, _) in enumerate(queue) if m == "LightGBM")
    defaults = queue[first][1]
    assert queue[first + 1:first + 4] == [
        ("LightGBM", {**defaults, "categorical": "native"}),
        ("LightGBM", {**defaults, "target_transform": "log1p"}),
        ("LightGBM", {**defaults, "categorical": "native", "target_transform": "log1p"}),
    ]
    assert offered[1].variants == ()  # RandomForest searches log1p(y) but gets no early variant
