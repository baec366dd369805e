"""Ensemble selection and stacking on real models and real data, without Spark."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from spark_automl import AutoMLConfig
from spark_automl.data.prepare import SearchData
from spark_automl.ensemble.build import VOTING, STACK, assemble, build_ensembles, stack_ensemble
from spark_automl.ensemble.selection import caruana
from spark_automl.errors import ConfigError
from spark_automl.metrics import ValidationTarget
from spark_automl.search.trial import Candidate, evaluate, fit_many
from tests.threads import threads_seen_by_fit
from tests.trials import given_trial

CANDIDATES = {
    "classification": [("LightGBM", {"n_estimators": 50}), ("LogisticRegression", {}),
                       ("RandomForest", {"n_estimators": 50}), ("KNN", {}), ("DecisionTree", {"max_depth": 3})],
    "regression": [("LightGBM", {"n_estimators": 50}), ("ElasticNet", {"alpha": 0.01}),
                   ("RandomForest", {"n_estimators": 50}), ("KNN", {})],
}


def _data(loader, task: str, holdout: bool = False, labels=None) -> SearchData:
    X, y = loader(return_X_y=True)
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    if labels is not None:
        y = np.asarray(labels, dtype=object)[y]
    fold = np.random.default_rng(0).permutation(len(y)) % (1 if holdout else 3)
    if holdout:
        valid = np.random.default_rng(1).random(len(y)) < 0.25
        splits = [(np.flatnonzero(~valid), np.flatnonzero(valid))]
    else:
        splits = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    classes = sorted(set(y.tolist())) if task == "classification" else None
    y_range = None if classes else float(np.ptp(y))
    return SearchData(task, X, y if classes else y.astype(float), None, splits, classes, y_range)


def _trials(data: SearchData, metric: str):
    return [evaluate(Candidate(i, model, params), data, metric, seed=0)
            for i, (model, params) in enumerate(CANDIDATES[data.task])]


def _config(task: str, metric: str, **kwargs) -> AutoMLConfig:
    return AutoMLConfig(task=task, primary_metric=metric, **kwargs)


def _ensembles(trials, data: SearchData, config: AutoMLConfig, workers: int = 1):
    """build_ensembles as the tabular task calls it, with no time budget (every refit is affordable)."""
    def stack(voting, candidates, iteration):
        return stack_ensemble(voting, candidates, data, config, iteration, workers)

    return build_ensembles(trials, data.target, config, refit_cost=lambda r: 0.0, stack=stack,
                           holdout=len(data.splits) == 1)


# Errors of three regressors on two rows (y = 10, 20), scored by RMSE (y_range=1, so NRMSE = RMSE):
#   A (1, 1): 1.0    B (-2, 1): 1.581    C (1, -3): 2.236
# Only A seeds (B is not within 5% of A). Greedy steps, blend error = sum of picked errors / picks:
#   step 1: A+A (1, 1) 1.0 | A+B (-1/2, 1) 0.791 | A+C (1, -1) 1.0                         -> B
#   step 2: +A (0, 1) 0.707 | +B (-1, 1) 1.0 | +C (0, -1/3) 0.236                         -> C
#   step 3: +A (1/4, 0) 0.177 | +B (-1/2, 0) 0.354 | +C (1/4, -1) 0.729                    -> A
#   step 4: +A (2/5, 1/5) 0.316 | +B (-1/5, 1/5) 0.2 | +C (2/5, -3/5) 0.510                -> B, worse than step 3
# The best blend seen wins. (An exact optimiser would find weights 5/12, 1/3, 1/4 with error 0: this is the
# greedy path, not a least-squares fit.)
GREEDY_PATH = [
    (1, (0.5, 0.5, 0.0), np.sqrt(0.625)),
    (2, (1 / 3, 1 / 3, 1 / 3), np.sqrt(1 / 18)),
    (3, (0.5, 0.25, 0.25), np.sqrt(1 / 32)),
    (4, (0.5, 0.25, 0.25), np.sqrt(1 / 32)),
]


@pytest.mark.parametrize("steps,weights,loss", GREEDY_PATH)
def test_caruana_follows_the_hand_computed_greedy_path(steps, weights, loss):
    metric = "normalized_root_mean_squared_error"
    y = np.array([10.0, 20.0])
    target = ValidationTarget("regression", y, y_range=1.0)
    a, b, c = (given_trial(it, y + err, target, metric) for it, err in ((7, (1, 1)), (3, (-2, 1)), (5, (1, -3))))
    assert (a.loss, b.loss, c.loss) == pytest.approx((1.0, np.sqrt(2.5), np.sqrt(5.0)))
    chosen = caruana([c, b, a], target, metric, iterations=steps)  # input order does not matter
    expected = {it: w for it, w in zip((7, 3, 5), weights) if w > 0}
    assert dict(zip(chosen.iterations, chosen.weights)) == pytest.approx(expected)
    assert chosen.loss == pytest.approx(loss) and chosen.loss < a.loss


def test_two_models_with_complementary_errors_blend_strictly_better_than_either():
    # A is sure about the 'no' rows and wrong on the 'yes' rows, B the reverse; averaged, every row is right.
    target = ValidationTarget("classification", np.array(["no", "no", "yes", "yes"], dtype=object),
                              classes=["no", "yes"])
    yes = {"A": [0.1, 0.1, 0.4, 0.4], "B": [0.6, 0.6, 0.9, 0.9], "C": [0.7, 0.2, 0.3, 0.3]}
    a, b, c = (given_trial(it, np.column_stack([1 - np.array(p), p]), target, "accuracy")
               for it, p in zip((0, 1, 2), yes.values()))
    assert (a.score, b.score, c.score) == (0.5, 0.5, 0.25)
    chosen = caruana([a, b, c], target, "accuracy", iterations=15)
    assert chosen.iterations == (0, 1) and chosen.weights == (0.5, 0.5)
    assert chosen.loss == -1.0  # accuracy 1.0 against 0.5 for the best single model


@pytest.mark.parametrize("loader,task,metric,labels,blend_wins", [
    (load_breast_cancer, "classification", "AUC_weighted", ["malignant", "benign"], True),
    (load_iris, "classification", "accuracy", ["setosa", "versicolor", "virginica"], False),
    (load_diabetes, "regression", "normalized_root_mean_squared_error", None, True),
])
def test_voting_on_real_trials_reports_the_loss_of_its_own_blend(loader, task, metric, labels, blend_wins):
    data = _data(loader, task, labels=labels)
    trials = _trials(data, metric)
    chosen = caruana(trials, data.target, metric, iterations=15)
    assert chosen is not None and abs(sum(chosen.weights) - 1.0) < 1e-12
    # weights are pick counts over 15 greedy steps plus the seeds: multiples of 1/picks
    picks = round(1 / min(chosen.weights))
    assert all(abs(w * picks - round(w * picks)) < 1e-9 for w in chosen.weights)
    blend = chosen.blend({t.iteration: t.oof for t in trials})
    assert chosen.loss == pytest.approx(data.target.loss(metric, data.target.take(blend)), abs=1e-12)
    best = min(trials, key=lambda t: (t.loss, t.iteration))
    if blend_wins:  # the trials disagree enough for a blend to beat the best of them
        assert len(chosen.iterations) >= 2 and chosen.loss < best.loss - 1e-4
    else:  # iris: no blend beats the best accuracy (0.96), so the best single model stands alone
        assert chosen.iterations == (best.iteration,) and chosen.loss == best.loss


def test_voting_result_matches_its_fitted_estimator():
    data = _data(load_breast_cancer, "classification", labels=["malignant", "benign"])
    trials = _trials(data, "AUC_weighted")
    config = _config("classification", "AUC_weighted", enable_stack_ensemble=False)
    voting = _ensembles(trials, data, config)[0]
    assert voting.model == VOTING and voting.iteration == len(trials)
    # the leaderboard entry is the selection's blend, scored by the same metric code as every trial
    chosen = caruana(trials, data.target, "AUC_weighted", config.ensemble_steps)
    assert voting.ensemble.iterations == chosen.iterations and voting.ensemble.weights == chosen.weights
    assert voting.loss == pytest.approx(chosen.loss, abs=1e-6)
    assert voting.params["ensembled_iterations"] == list(voting.ensemble.iterations)
    # the blend of the members' predictions is what the fitted estimator predicts
    train_idx, valid_idx = data.splits[0]
    fitted = fit_many(data, trials, train_idx, seed=0, n_jobs=1)
    est = assemble(voting, fitted, data)
    expected = sum(w * fitted[i].predict_proba(data.X[valid_idx])
                   for i, w in zip(voting.ensemble.iterations, voting.ensemble.weights))
    np.testing.assert_allclose(est.predict_proba(data.X[valid_idx]), expected, rtol=1e-12)
    assert set(est.predict(data.X[valid_idx])) <= {"malignant", "benign"}


def test_a_single_model_gets_no_ensemble():
    data = _data(load_breast_cancer, "classification")
    trials = _trials(data, "accuracy")[:1]
    assert _ensembles(trials, data, _config("classification", "accuracy")) == []


def test_ties_go_to_the_better_single_model():
    data = _data(load_iris, "classification")
    trials = _trials(data, "accuracy")
    # a perfect duplicate of the best model, ranked after it: never picked over the original
    best = min(trials, key=lambda t: (t.loss, t.iteration))
    twin = evaluate(Candidate(99, best.model, best.params), data, "accuracy", seed=0)
    chosen = caruana([*trials, twin], data.target, "accuracy", iterations=15)
    assert 99 not in chosen.iterations and best.iteration in chosen.iterations


@pytest.mark.parametrize("holdout", [False, True])
@pytest.mark.parametrize("meta", ["LogisticRegression", "LogisticRegressionCV", "LightGBMClassifier"])
def test_stack_predicts_calibrated_probabilities(holdout, meta):
    data = _data(load_iris, "classification", holdout=holdout, labels=["setosa", "versicolor", "virginica"])
    trials = _trials(data, "AUC_weighted")
    config = _config("classification", "AUC_weighted", stack_meta_learner_type=meta)
    ensembles = _ensembles(trials, data, config, workers=2)
    stack = next(e for e in ensembles if e.model == STACK)
    assert stack.params["meta_learner"] == meta and np.isfinite(stack.score)
    valid = data.splits[0][1]
    assert np.allclose(stack.oof[valid].sum(axis=1), 1.0, atol=1e-5)
    fitted = fit_many(data, trials, None, seed=0, n_jobs=1)
    proba = assemble(stack, fitted, data).predict_proba(data.X)
    assert proba.shape == (data.n_rows, 3) and np.allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("meta", ["ElasticNet", "ElasticNetCV", "LightGBMRegressor", "LinearRegression"])
def test_regression_stack_meta_learners(meta):
    data = _data(load_diabetes, "regression")
    trials = _trials(data, "r2_score")
    config = _config("regression", "r2_score", stack_meta_learner_type=meta, stack_meta_learner_kwargs={})
    stack = next(e for e in _ensembles(trials, data, config) if e.model == STACK)
    assert stack.score > 0.3  # diabetes: single models reach ~0.45


def test_meta_learner_must_fit_the_task():
    with pytest.raises(ConfigError, match="stack_meta_learner_type.*ElasticNet"):
        AutoMLConfig(task="classification", stack_meta_learner_type="ElasticNet")
    assert not AutoMLConfig(task="classification", enable_onnx_compatible_models=True).stack_enabled
    regression = AutoMLConfig(task="regression")
    assert (regression.meta_learner_for(False), regression.meta_learner_for(True)) == ("ElasticNet", "ElasticNetCV")
    classification = AutoMLConfig(task="classification")
    assert classification.meta_learner_for(True) == "LogisticRegressionCV"  # Azure's default under CV
    assert AutoMLConfig(task="classification", iterations=4).ensemble_steps == 4  # capped by iterations
    assert AutoMLConfig(task="classification").ensemble_steps == 15


def test_meta_learner_kwargs_checked_before_training():
    seed_article = {"refit": True, "fit_intercept": False, "class_weight": "balanced", "multi_class": "auto",
                    "n_jobs": -1}
    config = AutoMLConfig(task="classification", stack_meta_learner_type="LogisticRegressionCV",
                          stack_meta_learner_kwargs=seed_article)
    assert "multi_class" not in config.stack_meta_learner_kwargs and "multi_class" in seed_article
    with pytest.raises(ConfigError, match=r"\['multi_class'\].*removed"):
        AutoMLConfig(task="classification", stack_meta_learner_kwargs={"multi_class": "ovr"})
    with pytest.raises(ConfigError, match=r"\['alpha_typo'\].*ElasticNet"):
        AutoMLConfig(task="regression", stack_meta_learner_kwargs={"alpha_typo": 1})
    with pytest.raises(ConfigError, match="LogisticRegression.*C"):
        AutoMLConfig(task="classification", stack_meta_learner_type="LogisticRegression",
                     stack_meta_learner_kwargs={"C": -1.0})


@pytest.mark.parametrize("loader, task, meta, plain", [
    (load_iris, "classification", "LogisticRegressionCV", "LogisticRegression"),
    (load_diabetes, "regression", "ElasticNetCV", "ElasticNet")])
def test_a_cv_meta_learner_searches_its_settings_once_and_the_folds_reuse_them(monkeypatch, loader, task, meta,
                                                                              plain):
    """Four inner searches (three folds + the final fit) took ~30 s on a 7-class stack; the final fit's choice
    now scores the folds with the plain learner at that setting."""
    from spark_automl.ensemble import stacking

    data = _data(loader, task)
    trials = _trials(data, "AUC_weighted" if task == "classification" else "r2_score")
    members = [t.oof.astype(np.float64) for t in trials[:3]]
    built = []
    real_build = stacking.build_meta_learner
    monkeypatch.setattr(stacking, "build_meta_learner",
                        lambda name, kw, d, seed: built.append(name) or real_build(name, kw, d, seed))
    final, oof = stacking.cross_validated_stack(members, data, meta, None, 0)
    assert built == [meta, plain, plain, plain]
    name, kwargs = stacking.META_LEARNERS[meta].settled(final)
    X = stacking.stack_features(members, task)
    train, valid = data.splits[0]
    fold = stacking._fit(real_build(name, kwargs, data, 0), X[train], data.y[train], None)
    np.testing.assert_allclose(oof[valid], stacking._predict(fold, task, X[valid]))
    built.clear()
    stacking.cross_validated_stack(members, data, meta, {"cv": 2}, 0)  # a user's settings: searched in every fold
    assert built == [meta] * 4


def test_a_stack_meta_learner_fits_on_one_blas_thread(monkeypatch):
    """LogisticRegressionCV over wine_quality_white's 7 classes x 5 members took 20.5 s on two BLAS threads
    and 0.6 s on one: every meta fit runs on one, whatever the process allows."""
    from sklearn.linear_model import LogisticRegressionCV
    from threadpoolctl import threadpool_limits

    from spark_automl.ensemble.stacking import _fit, build_meta_learner

    seen = threads_seen_by_fit(monkeypatch, LogisticRegressionCV, "blas")
    X, y = load_iris(return_X_y=True)
    data = type("Data", (), {"task": "classification", "classes": [0, 1, 2]})()
    with threadpool_limits(limits=2, user_api="blas"):
        meta = _fit(build_meta_learner("LogisticRegressionCV", {}, data, 0), X, y, None)
    assert meta.predict_proba(X).shape == (150, 3)
    assert seen == [1]


def test_a_member_too_slow_to_refit_leaves_the_ensemble_instead_of_the_ensemble_leaving_the_run():
    data = _data(load_diabetes, "regression")
    metric = "normalized_root_mean_squared_error"
    trials = _trials(data, metric)
    config = _config("regression", metric)
    free = build_ensembles(trials, data.target, config, refit_cost=lambda r: 0.0)
    members = free[0].ensemble.iterations
    assert free[0].model == VOTING and len(members) >= 3
    slow = members[0]
    said = []
    # each member alone fits in the 50 s left, but not the slow one beside the others
    trimmed = build_ensembles(trials, data.target, config, refit_cost=lambda r: 40.0 if r.iteration == slow else 15.0,
                              say=said.append, time_left=50.0)
    kept = trimmed[0].ensemble.iterations
    assert trimmed[0].model == VOTING and slow not in kept and len(kept) >= 2
    assert trimmed[0].loss < min(t.loss for t in trials if t.iteration != slow)  # still a blend that pays
    assert any(f"without iteration {slow}" in line for line in said), said


def test_saving_the_members_counts_against_the_budget_as_their_refit_does():
    """A 1 GB forest takes tens of seconds to save with the model (wine_quality_white's stack ended 16% over its
    budget): the members' logging, one after another, is priced beside their parallel refit."""
    data = _data(load_diabetes, "regression")
    metric = "normalized_root_mean_squared_error"
    trials = _trials(data, metric)
    config = _config("regression", metric, enable_stack_ensemble=True)

    def stack(voting, candidates, iteration):
        return stack_ensemble(voting, candidates, data, config, iteration, 1)

    free = build_ensembles(trials, data.target, config, refit_cost=lambda r: 0.0, stack=stack)
    members = free[0].ensemble.iterations
    assert [r.model for r in free] == [VOTING, STACK] and len(members) >= 3
    heavy = members[0]
    said = []
    priced = build_ensembles(trials, data.target, config, refit_cost=lambda r: 1.0, say=said.append, time_left=50.0,
                             stack=stack, logging_cost=lambda r: 40.0 if r.iteration == heavy else 5.0)
    assert heavy not in priced[0].ensemble.iterations and len(priced[0].ensemble.iterations) >= 2
    assert any(f"without iteration {heavy}" in line for line in said), said
    # iris: voting keeps the best model alone, the stack would save the top library models: each fits alone,
    # not together
    iris = _data(load_iris, "classification", labels=["setosa", "versicolor", "virginica"])
    iris_trials = _trials(iris, "accuracy")
    iris_config = _config("classification", "accuracy", enable_stack_ensemble=True)
    best = min(iris_trials, key=lambda t: (t.loss, t.iteration)).iteration
    said.clear()
    dear = build_ensembles(iris_trials, iris.target, iris_config, refit_cost=lambda r: 0.0, say=said.append,
                           time_left=50.0, logging_cost=lambda r: 0.0 if r.iteration == best else 30.0,
                           stack=lambda voting, candidates, it: stack_ensemble(voting, candidates, iris, iris_config,
                                                                               it, 1))
    assert [r.model for r in dear] == [VOTING] and "StackEnsemble skipped" in " ".join(said)


def test_the_stack_budget_check_prices_the_members_the_stack_will_use():
    """Voting keeps iris' best model alone, so the stack would refit the top library models: when those do not
    fit in the time left the stack is skipped, though voting's single member costs nothing."""
    data = _data(load_iris, "classification", labels=["setosa", "versicolor", "virginica"])
    trials = _trials(data, "accuracy")
    config = _config("classification", "accuracy", enable_stack_ensemble=True)

    def stack(voting, candidates, iteration):
        return stack_ensemble(voting, candidates, data, config, iteration, 1)

    best = min(trials, key=lambda t: (t.loss, t.iteration)).iteration
    free = build_ensembles(trials, data.target, config, refit_cost=lambda r: 0.0, stack=stack)
    assert [r.model for r in free] == [VOTING, STACK] and free[0].ensemble.iterations == (best,)
    assert len(free[1].ensemble.iterations) >= 2
    said = []
    dear = build_ensembles(trials, data.target, config, refit_cost=lambda r: 0.0 if r.iteration == best else 30.0,
                           say=said.append, time_left=50.0, stack=stack)
    assert [r.model for r in dear] == [VOTING] and "StackEnsemble skipped" in " ".join(said)


@pytest.mark.parametrize("task,loader,metric", [("regression", load_diabetes, "r2_score"),
                                                ("classification", load_breast_cancer, "AUC_weighted")])
def test_an_ensemble_has_predict_proba_exactly_when_it_classifies_and_is_saved_in_the_safe_format(task, loader,
                                                                                                 metric):
    """A regression ensemble that claimed predict_proba failed its skops check (the check asks for
    probabilities where hasattr says there are some) and was written twice, with cloudpickle."""
    from sklearn.pipeline import Pipeline

    from spark_automl.ensemble.estimators import BaggedEstimator
    from spark_automl.model_format import SKOPS, choose_format

    data = _data(loader, task)
    trials = _trials(data, metric)
    ensembles = _ensembles(trials, data, _config(task, metric))
    members = fit_many(data, trials, None, 0, 1, 1)
    bag = BaggedEstimator.of([members[0], members[0]], "LightGBM", task, data.classes)
    for model in [assemble(e, members, data) for e in ensembles] + [bag]:
        pipeline = Pipeline([("model", model)])
        assert hasattr(model, "predict_proba") == hasattr(pipeline, "predict_proba") == (task == "classification")
        chosen = choose_format(pipeline, data.X[:5])
        assert chosen.name == SKOPS, (type(model).__name__, chosen.why)


def test_likely_members_are_what_the_ensembles_would_refit():
    """What the finish reserve prices during the search: the voting selection's members. On iris voting keeps the
    best model alone; the stack's first layer would then be the top library models, which are not priced (such a
    stack seldom wins; it is built only when the time left covers it)."""
    from spark_automl.ensemble.build import likely_members
    from spark_automl.ensemble.selection import MAX_SEED, library

    data = _data(load_iris, "classification", labels=["setosa", "versicolor", "virginica"])
    trials = _trials(data, "accuracy")
    config = _config("classification", "accuracy", enable_stack_ensemble=True)
    built = _ensembles(trials, data, config)
    voting, stack = built[0].ensemble.iterations, built[1].ensemble.iterations
    assert len(voting) == 1 and set(stack) == {r.iteration for r in library(trials)[:MAX_SEED]}
    assert likely_members(trials, data.target, config) == voting
    assert likely_members(trials[:1], data.target, config) == ()
