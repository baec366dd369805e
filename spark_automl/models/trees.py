"""Single trees and bagged forests from scikit-learn."""

from __future__ import annotations

from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from .registry import REGISTRY, ModelSpec
from .space import choice, logint, uniform

CLF_REG = ("classification", "regression")


def _factory(classifier, regressor, random_state_only=False):
    def build(params, task, n_jobs, seed):
        cls = classifier if task == "classification" else regressor
        criterion = params.pop("criterion", None)
        if criterion is not None and task == "classification":
            params["criterion"] = criterion
        if random_state_only:
            return cls(random_state=seed, **params)
        return cls(n_jobs=n_jobs, random_state=seed, **params)

    return build


_FOREST_SPACE = {
    "n_estimators": logint(50, 500),
    "max_features": uniform(0.1, 1.0),
    "min_samples_leaf": logint(1, 32),
    "criterion": choice("gini", "entropy"),
}

REGISTRY.register(
    ModelSpec(
        name="ExtremeRandomTrees",
        tasks=CLF_REG,
        factory=_factory(ExtraTreesClassifier, ExtraTreesRegressor),
        space=_FOREST_SPACE,
        defaults=({"n_estimators": 200, "max_features": 0.5, "min_samples_leaf": 1},),
        priority=2,
    )
)
REGISTRY.register(
    ModelSpec(
        name="RandomForest",
        tasks=CLF_REG,
        factory=_factory(RandomForestClassifier, RandomForestRegressor),
        space=_FOREST_SPACE,
        defaults=({"n_estimators": 200, "max_features": 0.5, "min_samples_leaf": 1},),
        priority=3,
    )
)
REGISTRY.register(
    ModelSpec(
        name="DecisionTree",
        tasks=CLF_REG,
        factory=_factory(DecisionTreeClassifier, DecisionTreeRegressor, random_state_only=True),
        space={
            "max_depth": logint(2, 32),
            "min_samples_leaf": logint(1, 64),
            "max_features": uniform(0.3, 1.0),
            "criterion": choice("gini", "entropy"),
        },
        defaults=({"max_depth": 8, "min_samples_leaf": 5},),
        priority=9,
    )
)
