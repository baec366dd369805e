"""Linear learners. Inputs arrive standardised by the featurizer, so no scaler here."""

from __future__ import annotations

from sklearn.linear_model import (
    ElasticNet,
    LassoLars,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.svm import LinearSVC

from .registry import REGISTRY, ModelSpec
from .space import choice, loguniform, uniform
from .wrappers import RareClassCalibratedClassifierCV

CLF = ("classification",)
REG = ("regression",)


def _logistic(params, task, n_jobs, seed):
    return LogisticRegression(max_iter=1000, random_state=seed, **params)


def _sgd_classifier(params, task, n_jobs, seed):
    return SGDClassifier(random_state=seed, max_iter=200, tol=1e-3, **params)


def _calibrated(base_factory):
    """Margin classifiers give no probabilities; calibrate them (3-fold sigmoid)."""

    def build(params, task, n_jobs, seed):
        return RareClassCalibratedClassifierCV(base_factory(params, seed), cv=3, method="sigmoid", n_jobs=n_jobs)

    return build


def _linear_svc(params, seed):
    return LinearSVC(random_state=seed, max_iter=2000, **params)


def _averaged_perceptron(params, seed):
    return SGDClassifier(loss="perceptron", average=True, random_state=seed, max_iter=200, tol=1e-3, **params)


def _elastic_net(params, task, n_jobs, seed):
    return ElasticNet(random_state=seed, max_iter=5000, **params)


def _lasso_lars(params, task, n_jobs, seed):
    return LassoLars(random_state=seed, **params)


def _sgd_regressor(params, task, n_jobs, seed):
    return SGDRegressor(random_state=seed, max_iter=200, tol=1e-3, **params)


def _ridge(params, task, n_jobs, seed):
    return Ridge(random_state=seed, **params)


REGISTRY.register(ModelSpec(
    name="LogisticRegression", tasks=CLF, factory=_logistic,
    space={"C": loguniform(1e-3, 100.0), "class_weight": choice(None, "balanced")},
    defaults=({"C": 1.0},), priority=5,
))
REGISTRY.register(ModelSpec(
    name="SGD", tasks=CLF, factory=_sgd_classifier,
    space={"alpha": loguniform(1e-6, 1e-1), "loss": choice("log_loss", "modified_huber"),
           "penalty": choice("l2", "elasticnet"), "l1_ratio": uniform(0.0, 1.0)},
    defaults=({"loss": "log_loss", "alpha": 1e-4},), priority=8,
))
REGISTRY.register(ModelSpec(
    name="LinearSVM", tasks=CLF, factory=_calibrated(_linear_svc),
    space={"C": loguniform(1e-3, 10.0)}, defaults=({"C": 1.0},), priority=10,
    notes="LinearSVC, sigmoid-calibrated for probabilities",
))
REGISTRY.register(ModelSpec(
    name="LinearSVMClassifier", tasks=CLF, factory=_calibrated(_linear_svc),
    space={"C": loguniform(1e-3, 10.0)}, defaults=({"C": 0.1},), priority=14,
    notes="Azure's large-data linear SVM; here the same LinearSVC with a different default C",
))
REGISTRY.register(ModelSpec(
    name="AveragedPerceptronClassifier", tasks=CLF, factory=_calibrated(_averaged_perceptron),
    space={"alpha": loguniform(1e-6, 1e-2)}, defaults=({"alpha": 1e-4},), priority=15,
    notes="averaged perceptron (SGD), sigmoid-calibrated",
))
REGISTRY.register(ModelSpec(
    name="ElasticNet", tasks=REG, factory=_elastic_net,
    space={"alpha": loguniform(1e-4, 10.0), "l1_ratio": uniform(0.0, 1.0)},
    defaults=({"alpha": 1e-3, "l1_ratio": 0.5},), priority=5,
))
REGISTRY.register(ModelSpec(
    name="LassoLars", tasks=REG, factory=_lasso_lars, supports_weights=False,
    space={"alpha": loguniform(1e-5, 1.0)}, defaults=({"alpha": 1e-3},), priority=10,
))
REGISTRY.register(ModelSpec(
    name="SGD", tasks=REG, factory=_sgd_regressor,
    space={"alpha": loguniform(1e-6, 1e-1), "loss": choice("squared_error", "huber"),
           "penalty": choice("l2", "elasticnet"), "l1_ratio": uniform(0.0, 1.0)},
    defaults=({"alpha": 1e-4},), priority=8,
))
REGISTRY.register(ModelSpec(
    name="FastLinearRegressor", tasks=REG, factory=_ridge,
    space={"alpha": loguniform(1e-3, 100.0)}, defaults=({"alpha": 1.0},), priority=12,
    notes="Azure's SDCA linear regressor; here Ridge regression",
))
REGISTRY.register(ModelSpec(
    name="OnlineGradientDescentRegressor", tasks=REG,
    factory=lambda params, task, n_jobs, seed: SGDRegressor(average=True, random_state=seed, max_iter=200, tol=1e-3, **params),
    space={"alpha": loguniform(1e-6, 1e-1), "eta0": loguniform(1e-4, 1e-1)},
    defaults=({"alpha": 1e-4},), priority=14,
    notes="averaged SGD regression",
))
