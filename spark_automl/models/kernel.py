"""Neighbours, kernel SVM and naive Bayes: useful on small data, too slow on large."""

from __future__ import annotations

from sklearn.naive_bayes import BernoulliNB, MultinomialNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVC

from .registry import REGISTRY, ModelSpec
from .space import choice, logint, loguniform
from .wrappers import RareClassCalibratedClassifierCV

CLF = ("classification",)


def _knn(params, task, n_jobs, seed):
    cls = KNeighborsClassifier if task == "classification" else KNeighborsRegressor
    return cls(n_jobs=n_jobs, **params)


def _svc(params, task, n_jobs, seed):
    # SVC(probability=True) is deprecated in scikit-learn 1.9: calibrate explicitly instead.
    return RareClassCalibratedClassifierCV(SVC(random_state=seed, **params), cv=3, method="sigmoid", n_jobs=n_jobs)


def _multinomial_nb(params, task, n_jobs, seed):
    # Multinomial NB needs non-negative inputs; the featurizer standardises numerics.
    return make_pipeline(MinMaxScaler(clip=True), MultinomialNB(**params))


def _bernoulli_nb(params, task, n_jobs, seed):
    return BernoulliNB(**params)


REGISTRY.register(ModelSpec(
    name="KNN", tasks=("classification", "regression"), factory=_knn, supports_weights=False,
    space={"n_neighbors": logint(1, 64), "weights": choice("uniform", "distance")},
    defaults=({"n_neighbors": 15, "weights": "distance"},), priority=11, max_rows=30_000,
    onnx=False,  # skl2onnx 1.20 converts weights='distance' inexactly (probabilities off by up to 0.09)
))
REGISTRY.register(ModelSpec(
    name="SVM", tasks=CLF, factory=_svc,
    space={"C": loguniform(1e-2, 100.0), "gamma": choice("scale", "auto")},
    defaults=({"C": 1.0},), priority=13, max_rows=5_000,
))
REGISTRY.register(ModelSpec(
    name="MultinomialNaiveBayes", tasks=CLF, factory=_multinomial_nb,
    space={"alpha": loguniform(1e-3, 10.0)}, defaults=({"alpha": 1.0},), priority=16,
    weight_param="multinomialnb__sample_weight",
    onnx=False,  # skl2onnx 1.20: MinMaxScaler(clip) + MultinomialNB becomes a float x double MatMul ORT rejects
))
REGISTRY.register(ModelSpec(
    name="BernoulliNaiveBayes", tasks=CLF, factory=_bernoulli_nb,
    space={"alpha": loguniform(1e-3, 10.0)}, defaults=({"alpha": 1.0},), priority=17,
))
