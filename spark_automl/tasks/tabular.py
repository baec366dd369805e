"""Classification and regression: Spark-prepared feature matrices, k-fold or holdout
validation, scikit-learn learners from the registry, voting and stack ensembles."""

from __future__ import annotations

from typing import Any

from sklearn.pipeline import Pipeline

from ..budget import (
    BAG_HARD_MAX_MB,
    bag_footprint,
    bag_seconds,
    logging_seconds,
    parallel_seconds,
    refit_seconds,
    spare_bags,
)
from ..config import AutoMLConfig
from ..data.prepare import PreparedData, load_and_check, prepare
from ..distributed import refit_on_all_rows
from ..ensemble.build import assemble, build_ensembles, likely_members, member_results, stack_ensemble
from ..ensemble.estimators import BaggedEstimator
from ..errors import ConfigError
from ..models import REGISTRY
from ..search.sweeper import Sweeper
from ..search.trial import TabularEvaluator, TrialResult, bagged_iterations, fit_many
from .base import Problem, Say, Task

TEST_FRAME_MAX_ROWS = 100_000  # a test set kept with the run record for run.test() after re-attaching


def eligible_specs(config: AutoMLConfig, n_rows: int, has_weights: bool) -> tuple[list, dict[str, str]]:
    """Registry specs the search may use, with the reason each excluded model was skipped."""
    specs, skipped = [], {}
    explicit = set(config.allowed_models or [])
    for name in config.candidate_models():
        spec = REGISTRY.get(name, config.task)
        if has_weights and not spec.supports_weights:
            skipped[name] = "does not support sample weights"
        elif spec.max_rows is not None and n_rows > spec.max_rows and name not in explicit:
            skipped[name] = f"too slow above {spec.max_rows} rows (allow it explicitly to force it)"
        elif config.enable_onnx_compatible_models and not spec.onnx:
            skipped[name] = "not ONNX-convertible"
        else:
            specs.append(spec)
    if not specs:
        reasons = "; ".join(f"{name}: {why}" for name, why in skipped.items())
        raise ConfigError(f"No model can be trained with these settings ({reasons}). "
                          "Allow other models in allowed_models, or drop weight_column_name.")
    return specs, skipped


def with_searched_choice(specs: list, name: str, options: tuple, applies, early) -> list:
    """Specs where `applies(spec)` also search the choice `name` over options (the first is the plain
    fit); those where `early(spec)` try the last option on their first portfolio entry right away, alone
    and with each earlier variant (LightGBM's defaults on native categories *and* log1p(y): on
    ames_housing the pair scored 0.906 r2 in CV and 0.908 on the test part, against 0.893 and 0.881 apart)."""
    import dataclasses

    from ..models.space import choice

    out = []
    for spec in specs:
        if applies(spec):
            added = {name: options[-1]}
            variants = spec.variants + ((added, *({**v, **added} for v in spec.variants)) if early(spec) else ())
            spec = dataclasses.replace(spec, space={**spec.space, name: choice(*options)}, variants=variants)
        out.append(spec)
    return out


def with_native_categories(specs: list, data, config: AutoMLConfig, large: bool) -> list:
    """LightGBM may split on the categorical columns themselves rather than their one-hot blocks, a
    choice ('categorical': 'onehot' | 'native') the search makes per data set; its defaults get a native
    variant early. Only where there are categorical columns, not in ONNX or large-data mode."""
    from ..search.trial import CATEGORICAL, NATIVE

    if not data.categorical_groups or config.enable_onnx_compatible_models or large:
        return specs
    lightgbm = lambda spec: spec.framework == "lightgbm" and spec.tunable  # noqa: E731
    return with_searched_choice(specs, CATEGORICAL, ("onehot", NATIVE), lightgbm, lightgbm)


def with_target_transform(specs: list, y, config: AutoMLConfig, large: bool) -> list:
    """Regression on a non-negative label: every learner may learn log1p(y) (prices, counts: relative
    errors), searched as the 'target_transform' choice and scored on the original scale; LightGBM's
    defaults get a log variant early in the portfolio. Not in ONNX mode (no exact graph) nor in
    large-data mode (the Spark learners of the final refit learn y as given)."""
    import numpy as np

    from ..search.trial import LOG_TARGET, TARGET_TRANSFORM

    if config.task != "regression" or config.enable_onnx_compatible_models or large or np.nanmin(y) < 0:
        return specs
    return with_searched_choice(specs, TARGET_TRANSFORM, ("none", LOG_TARGET), lambda spec: spec.tunable,
                                lambda spec: spec.name == "LightGBM")


class TabularTask(Task):
    name = "tabular"
    capabilities = frozenset({"test", "explain", "onnx", "code"})

    def check(self, spark, config: AutoMLConfig):
        return load_and_check(spark, config)

    def prepare(self, spark, config: AutoMLConfig, loaded: Any, say: Say) -> Problem:
        prepared = prepare(spark, config, say, loaded)
        data = prepared.search
        specs, skipped = eligible_specs(config, data.n_rows, data.weight is not None)
        specs = with_target_transform(with_native_categories(specs, data, config, prepared.large), data.y, config,
                                      prepared.large)
        evaluator = TabularEvaluator(data, config.metric, config.seed, config.cores_per_trial, config.mem_in_mb)
        description = (f"{prepared.profile.n_rows} rows, {len(prepared.feature_columns)} feature columns -> "
                       f"{data.X.shape[1]} features; validation: {prepared.technique.describe()}")
        sweeper = Sweeper(specs, seed=config.seed, task=config.task)
        bagging = config.bag_fold_models and len(data.splits) > 1 and not prepared.large
        bag_folds = len(data.splits) if bagging else 0
        return Problem(evaluator, data.target, sweeper, len(data.splits), data.n_rows,
                       data.X.shape[1], prepared.guardrails, description, prepared, skipped,
                       holdout=len(data.splits) == 1, explained_columns=len(prepared.feature_columns),
                       bag_folds=bag_folds)

    def bags(self, problem: Problem, result: TrialResult) -> bool:
        """Whether this trial's final model is its k fold models (see AutoMLConfig.bag_fold_models)."""
        return bool(bagged_iterations([result], problem.bag_folds))

    def refit_cost(self, problem: Problem, result: TrialResult) -> float:
        prepared: PreparedData = problem.state
        if self.bags(problem, result):
            return bag_seconds(result.fit_seconds)
        return refit_seconds(result.fit_seconds, problem.n_splits, prepared.n_train_rows / max(problem.n_rows, 1))

    def final_footprint(self, problem: Problem, result: TrialResult) -> tuple[float, float]:
        if self.bags(problem, result):
            return bag_footprint(result.model_bytes, result.model_objects, problem.n_splits)
        return super().final_footprint(problem, result)

    def logging_cost(self, problem: Problem, result: TrialResult) -> float:
        """Seconds to save this member with the final model, beyond the fixed logging time."""
        size, objects = self.final_footprint(problem, result)
        return logging_seconds([size], [objects])

    def likely_members(self, problem, results, config):
        return likely_members(results, problem.target, config)

    def ensembles(self, problem, results, config, say, time_left):
        prepared: PreparedData = problem.state

        def stack(voting, candidates, iteration):
            return stack_ensemble(voting, candidates, prepared.search, config, iteration,
                                  config.max_concurrent_iterations)

        return build_ensembles(results, problem.target, config, lambda r: self.refit_cost(problem, r), say,
                               time_left, stack, problem.holdout, lambda r: self.logging_cost(problem, r))

    def fit_final(self, problem, result, results, config, cache, spark=None, say: Say | None = None,
                  time_left: float | None = None) -> Pipeline:
        """featurizer + the candidate (or every ensemble member, max_concurrent_iterations at a
        time) refit on all training rows, or bagged: its fold models again (`bags`; beyond the caps
        when time_left allows, see budget.spare_bags)."""
        prepared: PreparedData = problem.state
        data = prepared.search
        todo = [m for m in member_results(result, results) if m.iteration not in cache]
        chosen = bagged_iterations(todo, problem.bag_folds)
        if time_left is not None and problem.bag_folds:
            chosen |= self._bags_in_spare_time(problem, result, todo, chosen, time_left,
                                               config.max_concurrent_iterations, say)
        bagged = {m.iteration: m.model for m in todo if m.iteration in chosen}

        def on_sample(members):
            fitted = fit_many(data, members, None, config.seed, config.cores_per_trial,
                              config.max_concurrent_iterations, bagged)
            return {it: BaggedEstimator.of(model, bagged[it], data.task, data.classes) if it in bagged else model
                    for it, model in fitted.items()}

        if prepared.large and todo and spark is not None:  # every row, in Spark
            fitted, made_by, prepared.n_train_rows = refit_on_all_rows(spark, prepared, todo, config.seed,
                                                                       say or (lambda m: None), on_sample)
            cache.update(fitted)
            prepared.final_learners.update(made_by)
        else:
            cache.update(on_sample(todo))
            prepared.bagged.update(bagged)
            prepared.final_learners.update({m.iteration: f"driver, {len(data.splits)} fold models averaged"
                                            if m.iteration in bagged else f"driver, all {prepared.n_train_rows} rows"
                                            for m in todo if m.iteration not in prepared.final_learners})
        return Pipeline([("featurizer", prepared.featurizer), ("model", assemble(result, cache, data))])

    def _bags_in_spare_time(self, problem: Problem, result: TrialResult, todo: list[TrialResult], chosen: set[int],
                            time_left: float, workers: int, say: Say | None) -> set[int]:
        """Members over the bag caps, bagged anyway when the refit starts with time to spare: heaviest
        ensemble weight first, each while its extra fits and logging fit budget.spare_bags' share."""
        k = problem.bag_folds

        def logged(footprint: tuple[float, float]) -> float:
            return logging_seconds([footprint[0]], [footprint[1]])

        planned = (parallel_seconds([self.refit_cost(problem, m) for m in todo], workers)
                   + sum(self.logging_cost(problem, m) for m in todo))
        spare = time_left - planned
        weights = dict(zip(result.ensemble.iterations, result.ensemble.weights)) if (
            result.ensemble is not None and result.ensemble.weights) else {}
        options = []
        for m in sorted(todo, key=lambda m: (-weights.get(m.iteration, 1.0), m.loss, m.iteration)):
            if m.iteration in chosen or k * m.model_bytes > BAG_HARD_MAX_MB * 2**20:
                continue
            extra = (bag_seconds(m.fit_seconds) - self.refit_cost(problem, m)
                     + logged(bag_footprint(m.model_bytes, m.model_objects, k)) - self.logging_cost(problem, m))
            options.append((m.iteration, extra))
        extra_bags = spare_bags(options, spare)
        if extra_bags and say is not None:
            names = ", ".join(f"{m.model} {m.iteration}" for m in todo if m.iteration in extra_bags)
            say(f"Bagging beyond the size caps in the time left (~{spare:.0f}s spare): {names}")
        return set(extra_bags)

    def model_payload(self, problem, model):
        example = problem.state.input_example.copy()  # the training dtypes as they are
        from mlflow.models import infer_signature

        from ..serving import PREDICT_METHOD

        classifier = hasattr(model, "predict_proba")  # the pyfunc also serves probabilities on request
        signature = infer_signature(example, model.predict(example),
                                    params={PREDICT_METHOD: "predict"} if classifier else None)
        return "sklearn", model, (example if problem.state.example_logged else None), signature

    def record_info(self, problem, config) -> dict[str, Any]:
        p: PreparedData = problem.state
        s = p.search
        test = p.test_frame if p.test_frame is not None and len(p.test_frame) <= TEST_FRAME_MAX_ROWS else None
        return {
            "label": p.label, "feature_columns": list(p.feature_columns), "weight_column": p.weight_column,
            "classes": s.classes, "positive_label": s.positive_label, "y_range": s.y_range,
            "input_example": p.input_example, "holdout_frame": p.holdout_frame, "test_frame": test,
            "has_test": p.test_frame is not None or p.full_test is not None, "target": problem.target,
            "featurization": [c.describe() for c in p.plan.columns], "validation": p.technique.describe(),
            "final_learners": dict(p.final_learners), "sampled_rows": p.sampled_rows, "train_rows": p.n_train_rows,
            "estimator_args": s.estimator_args(), "bag_folds": problem.bag_folds,
            "bagged": {it: it in p.bagged for it in p.final_learners},  # fitted members: bagged or not
        }

    def describe_data(self, info: dict) -> list[str]:
        return ["  featurizer:"] + [f"    {p.get('name', ''):<28} {p.get('purpose', ''):<12} {p.get('reason', '')}"
                                   for p in info["featurization"]]

    def validation_charts(self, config, info, result):
        from ..charts import charts_for
        from ..table_metrics import tables_for

        target = info["target"]
        prediction = target.take(result.oof)
        return {**charts_for(config.task, target.actual, prediction, info["classes"], target.scored_weight,
                             info.get("positive_label"), target_name=info["label"]),
                **tables_for(config.task, target.actual, prediction, info["classes"])}

    def finish_steps(self, config: AutoMLConfig, info: dict) -> list[tuple[str, str, bool, bool]]:
        """(artifact, run method, wanted, asked-for)."""
        return [("charts", "log_charts", True, False),
                ("test", "test", bool(info.get("has_test")), True),
                ("explanations", "explain", bool(config.model_explainability), True),
                ("onnx", "export_onnx", bool(config.enable_onnx_compatible_models), True),
                ("generated_code", "generate_code", bool(config.enable_code_generation), False)]
