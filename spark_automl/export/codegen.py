"""Generated training code: a script and a Databricks notebook that rebuild one child's
pipeline from the raw data and print its validation score.

The data preparation (seeded folds, featurization statistics) is re-run with the library,
exactly as the experiment ran it; the estimator is written out as constructor code with the
chosen hyperparameters, so the user can read, edit and retrain it without the search.
"""

from __future__ import annotations

import inspect
import math
import pprint
import textwrap
from typing import Any, Mapping

from sklearn.base import BaseEstimator

from ..config import AutoMLConfig
from ..ensemble.build import member_results
from ..search.trial import TrialResult, bagged_iterations, build_estimator, searched_params

SETTINGS = ("task", "label_column_name", "weight_column_name", "cv_split_column_names", "n_cross_validations",
            "validation_size", "test_size", "positive_label", "max_rows_in_memory", "seed", "exclude_nan_labels")
NOTEBOOK_HEADER = "# Databricks notebook source"
CELL = "\n# COMMAND ----------\n"


def _changed_params(estimator: BaseEstimator) -> dict[str, Any]:
    """Parameters that differ from the constructor's defaults. Parameters the signature does not
    name (LightGBM / XGBoost **kwargs) are kept unless None, which is their default."""
    defaults = {name: p.default for name, p in inspect.signature(type(estimator).__init__).parameters.items()}
    out = {}
    for name, value in estimator.get_params(deep=False).items():
        if name not in defaults:
            if value is not None:
                out[name] = value
        elif not _same(value, defaults[name]):
            out[name] = value
    return out


def _is_estimator(obj: Any) -> bool:
    """scikit-learn estimators, and learners that follow its API without subclassing it (CatBoost)."""
    return isinstance(obj, BaseEstimator) or (not isinstance(obj, type) and callable(getattr(obj, "get_params", None))
                                               and callable(getattr(obj, "fit", None)))


def _same(value: Any, default: Any) -> bool:
    try:
        return bool(value is default or (type(value) is type(default) and value == default))
    except Exception:  # noqa: BLE001 - arrays and the like: treat as changed
        return False


def estimator_code(estimator: Any, indent: int = 0) -> str:
    """Constructor code: `Class(param=value, ...)` with every non-default parameter, nested
    estimators written the same way (sklearn's repr elides long parameter lists with '...')."""
    if isinstance(estimator, float) and not math.isfinite(estimator):
        return f"float({str(estimator)!r})"
    if not _is_estimator(estimator):
        return repr(estimator)
    pad = " " * (indent + 4)
    args = [f"{pad}{name}={estimator_code(value, indent + 4)}" for name, value in
            sorted(_changed_params(estimator).items())]
    if not args:
        return f"{type(estimator).__name__}()"
    return f"{type(estimator).__name__}(\n" + ",\n".join(args) + f",\n{' ' * indent})"


def _imports(estimator: BaseEstimator) -> list[str]:
    """`from module import Class` for the estimator and every estimator nested in its params."""
    seen: dict[str, str] = {}

    def visit(obj: Any) -> None:
        if _is_estimator(obj):
            cls = type(obj)
            module = cls.__module__
            parts = module.split(".")
            for candidate in (parts[0], ".".join(parts[:2])):  # the public path: lightgbm, sklearn.svm
                try:
                    if getattr(__import__(candidate, fromlist=[cls.__name__]), cls.__name__, None) is cls:
                        module = candidate
                        break
                except ImportError:
                    continue
            seen[cls.__name__] = module
            for value in obj.get_params(deep=False).values():
                visit(value)
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                visit(item)

    visit(estimator)
    return [f"from {module} import {name}" for name, module in sorted(seen.items())]


def _data_literal(value: Any, arg: str) -> str:
    if isinstance(value, str):
        return repr(value)
    return f"None  # the experiment got an in-memory {type(value).__name__}: pass --{arg} PATH_OR_TABLE"


def _featurization_literal(featurization: Any) -> str:
    if isinstance(featurization, str):
        return repr(featurization)
    return ("FeaturizationConfig(blocked_transformers={!r}, column_purposes={!r}, transformer_params={!r}, "
            "drop_columns={!r})").format(featurization.blocked_transformers, featurization.column_purposes,
                                         featurization.transformer_params, featurization.drop_columns)


def _sections(config: AutoMLConfig, classes, result: TrialResult, results: list[TrialResult],
              estimator_args: dict, bag_folds: int = 0, fitted_bagged: Mapping[int, bool] | None = None) -> list[str]:
    members = member_results(result, results)
    by_rule = bagged_iterations(members, bag_folds)
    done = fitted_bagged or {}
    bagged = sorted(m.iteration for m in members if done.get(m.iteration, m.iteration in by_rule))
    builders, imports = [], {"from sklearn.pipeline import Pipeline"}
    for m in members:
        est = build_estimator(m.model, m.params, config.task, classes, config.cores_per_trial, config.seed,
                              **estimator_args)
        imports.update(_imports(est))
        code = estimator_code(est, indent=4)
        doc = f"    \"\"\"{m.model}, iteration {m.iteration} ({config.metric}={m.score:.6f}).\"\"\"\n"
        searched = searched_params(m)
        if searched != m.params:  # early-stopped: each fold stopped on its validation rows under the cap
            capped = estimator_code(build_estimator(m.model, searched, config.task, classes, config.cores_per_trial,
                                                    config.seed, **estimator_args), indent=8)
            doc += (f"    if validating:  # the searched cap; each fold stops early on its validation rows\n"
                    f"        return {capped}\n")
        builders.append(f"def build_iteration_{m.iteration}(validating=False):\n{doc}    return {code}\n")
    settings = {name: getattr(config, name) for name in SETTINGS if getattr(config, name) is not None}
    header = inspect.cleandoc(f'''
        """Training code generated by spark-automl for iteration {result.iteration} ({result.model}).

        It re-runs the experiment's data preparation (the same seeded validation splits and
        featurization statistics, computed with Spark), rebuilds the estimator with the chosen
        hyperparameters, prints the validation {config.metric} (logged: {result.score:.10f}) and
        builds the final pipeline: a member in BAGGED averages its fold models (the ones validated),
        the others are refit on all training rows.

            python training_script.py [--data PATH_OR_TABLE] [--validation-data PATH_OR_TABLE]
        """''')
    setup = "\n".join([
        "import argparse", "", "import numpy as np", *sorted(imports),
        "from spark_automl import AutoMLConfig, FeaturizationConfig",
        "from spark_automl.data.prepare import prepare",
        "from spark_automl.ensemble.estimators import BaggedEstimator",
        "from spark_automl.search.trial import fit_estimator, predict",
        "from spark_automl.spark_utils import default_session", "",
        f"TRAINING_DATA = {_data_literal(config.training_data, 'data')}",
        f"VALIDATION_DATA = {_data_literal(config.validation_data, 'validation-data')}"
        if config.validation_data is not None else "VALIDATION_DATA = None",
        f"SETTINGS = {pprint.pformat(settings, width=100)}",
        f"FEATURIZATION = {_featurization_literal(config.featurization)}",
        f"PRIMARY_METRIC = {config.metric!r}",
        f"LOGGED_SCORE = {result.score!r}",
        f"BAGGED = {set(bagged)!r}  # members whose final model is their fold models averaged",
    ])
    members_code = "\n\n".join(builders)
    member_list = ", ".join(f"({m.iteration}, {m.model!r}, build_iteration_{m.iteration})" for m in members)
    combine = _combine_code(result, config)
    body = inspect.cleandoc(f'''
        MEMBERS = [{member_list}]


        def cross_validate(data, build, model_name):
            """Validation / out-of-fold predictions of one estimator over the experiment's splits, and
            the fitted fold models."""
            n_out = len(data.classes) if data.task == "classification" else 0
            oof = np.full((data.n_rows, n_out) if n_out else data.n_rows, np.nan)
            fold_models = []
            for train_idx, valid_idx in data.splits:
                est = build(validating=True)
                w = data.weight[train_idx] if data.weight is not None else None
                fit_estimator(est, model_name, data.task, data.X[train_idx], data.y[train_idx], w,
                              valid=(data.X[valid_idx], data.y[valid_idx]))
                oof[valid_idx] = predict(est, data.task, data.X[valid_idx])
                fold_models.append(est)
            return oof, fold_models


        def main(training_data=TRAINING_DATA, validation_data=VALIDATION_DATA):
            if training_data is None:
                raise SystemExit("Pass --data PATH_OR_TABLE: the experiment was given an in-memory DataFrame.")
            spark = default_session()  # the active / spark-submit session; local only without a master
            config = AutoMLConfig(training_data=training_data, validation_data=validation_data,
                                  featurization=FEATURIZATION, **SETTINGS)
            prepared = prepare(spark, config)
            data = prepared.search
            validated = {{it: cross_validate(data, build, name) for it, name, build in MEMBERS}}
            member_oof = {{it: oof for it, (oof, _) in validated.items()}}
            __COMBINE__
            score = data.target.score(oof, also=(PRIMARY_METRIC,))[PRIMARY_METRIC]
            print(f"validation {{PRIMARY_METRIC}} = {{score:.10f}} (logged by the experiment: {{LOGGED_SCORE:.10f}})")
            final = {{}}
            for it, name, build in MEMBERS:
                if it in BAGGED:
                    final[it] = BaggedEstimator.of(validated[it][1], name, data.task, data.classes)
                else:
                    final[it] = fit_estimator(build(), name, data.task, data.X, data.y, data.weight)
            model = Pipeline([("featurizer", prepared.featurizer), ("model", final_model(final, data))])
            return score, model


        if __name__ == "__main__":
            parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
            parser.add_argument("--data", default=TRAINING_DATA)
            parser.add_argument("--validation-data", default=VALIDATION_DATA)
            args = parser.parse_args()
            main(args.data, args.validation_data)
        ''').replace("    __COMBINE__", combine)
    return [header, setup, members_code, _final_model_code(result), body]


def _combine_code(result: TrialResult, config: AutoMLConfig) -> str:
    """Lines (indented for main) that turn member_oof into the child's validation predictions."""
    spec = result.ensemble
    if spec is None:
        return f"    oof = member_oof[{result.iteration}]"
    if spec.kind == "VotingEnsemble":
        weights = dict(zip(spec.iterations, spec.weights))
        return f"    weights = {weights!r}\n    oof = sum(w * member_oof[it] for it, w in weights.items())"
    kwargs = dict(config.stack_meta_learner_kwargs or {})
    return textwrap.indent(inspect.cleandoc(f'''
            from spark_automl.ensemble.stacking import cross_validated_stack, holdout_rows, holdout_stack
            from spark_automl.search.trial import fit_many
            order = [it for it, _, _ in MEMBERS]
            if len(data.splits) > 1:
                meta, oof = cross_validated_stack([member_oof[it] for it in order], data, {spec.meta_learner_name!r},
                                                  {kwargs!r}, SETTINGS.get("seed", 0))
            else:
                member_rows, meta_rows = holdout_rows(data.splits[0][0], {config.stack_meta_learner_train_percentage!r},
                                                      SETTINGS.get("seed", 0))
                share = {{it: fit_estimator(build(), name, data.task, data.X[member_rows], data.y[member_rows],
                                            None if data.weight is None else data.weight[member_rows])
                          for it, name, build in MEMBERS}}
                meta, oof = holdout_stack([share[it] for it in order], data, meta_rows, {spec.meta_learner_name!r},
                                          {kwargs!r}, SETTINGS.get("seed", 0))
            global META_LEARNER
            META_LEARNER = meta'''), "    ")


def _final_model_code(result: TrialResult) -> str:
    spec = result.ensemble
    if spec is None:
        return inspect.cleandoc(f'''
            def final_model(fitted, data):
                """The final estimator: refit on all training rows, or its fold models averaged (BAGGED)."""
                return fitted[{result.iteration}]''')
    if spec.kind == "VotingEnsemble":
        return inspect.cleandoc(f'''
            def final_model(fitted, data):
                """Soft voting over the final members (weights = Caruana pick counts)."""
                from spark_automl.ensemble.estimators import VotingEnsembleEstimator

                return VotingEnsembleEstimator([fitted[it] for it in {list(spec.iterations)!r}], {list(spec.names)!r},
                                               {list(spec.weights)!r}, data.task, data.classes).fit()''')
    return inspect.cleandoc(f'''
        META_LEARNER = None  # set by main(): the meta-learner trained on the members' validation predictions


        def final_model(fitted, data):
            """The final members under the meta-learner."""
            from spark_automl.ensemble.estimators import StackEnsembleEstimator

            return StackEnsembleEstimator([fitted[it] for it in {list(spec.iterations)!r}], {list(spec.names)!r},
                                          META_LEARNER, {spec.meta_learner_name!r}, data.task, data.classes).fit()''')


def generate(config: AutoMLConfig, classes, result: TrialResult, results: list[TrialResult],
             estimator_args: dict | None = None, bag_folds: int = 0,
             fitted_bagged: Mapping[int, bool] | None = None) -> dict[str, str]:
    """{'training_script.py': ..., 'training_notebook.py': ...} for one child. estimator_args: the
    search data's (target-encoded columns), so the script rebuilds the same estimators; bag_folds:
    the run's (TabularTask: k when members may be their fold models) and fitted_bagged: whether each
    member the run fitted was bagged (the others follow the size caps), so the script bags the same ones."""
    sections = _sections(config, classes, result, results, estimator_args or {}, bag_folds, fitted_bagged)
    script = "\n\n\n".join(sections) + "\n"
    notebook_body = sections[1:-1] + [sections[-1].replace(
        'if __name__ == "__main__":\n    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])\n'
        '    parser.add_argument("--data", default=TRAINING_DATA)\n'
        '    parser.add_argument("--validation-data", default=VALIDATION_DATA)\n'
        '    args = parser.parse_args()\n    main(args.data, args.validation_data)',
        "score, model = main()  # set TRAINING_DATA above when the experiment got an in-memory DataFrame\n"
        "print(model)")]
    markdown = "# MAGIC %md\n" + "\n".join(f"# MAGIC {line}" for line in sections[0].strip('"').strip().splitlines())
    notebook = NOTEBOOK_HEADER + "\n\n" + markdown + CELL + CELL.join(notebook_body) + "\n"
    return {"training_script.py": script, "training_notebook.py": notebook}
