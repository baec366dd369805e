"""The fitted ensembles: plain scikit-learn estimators, so they sit in the final Pipeline
after the featurizer and log, load and score like any single model."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if


def member_predictions(members: Sequence[Any], task: str, X) -> list[np.ndarray]:
    """Probabilities (classification) or predictions (regression) of each member."""
    if task == "classification":
        return [np.asarray(m.predict_proba(X), dtype=np.float64) for m in members]
    return [np.asarray(m.predict(X), dtype=np.float64) for m in members]


def stack_features(predictions: Sequence[np.ndarray], task: str) -> np.ndarray:
    """The meta-learner's input: every member's class probabilities (binary: the positive
    column only, the other is redundant) or every member's prediction."""
    if task == "classification":
        cols = [p[:, 1:] if p.shape[1] == 2 else p for p in predictions]
        return np.hstack(cols)
    return np.column_stack(predictions)


class _Ensemble(BaseEstimator):
    """What both ensembles share: members arrive fitted, classes are the task's, and a
    classifier predicts the class of its highest combined probability."""

    def fit(self, X=None, y=None):  # members arrive fitted; nothing to learn
        self.classes_ = np.asarray(self.classes) if self.classes is not None else None
        return self

    @property
    def _estimator_type(self) -> str:
        return "classifier" if self.task == "classification" else "regressor"

    def _classifies(self) -> bool:
        """predict_proba exists for classification ensembles only, so that hasattr answers like for any
        regressor: the Pipeline, the skops check (model_format.choose_format) and the pyfunc's
        probabilities ask it (a regression ensemble that claimed predict_proba failed its skops check
        and was written twice: 53 s for a 1.1 GB ExtraTrees member on diamonds)."""
        return self.task == "classification"

    def predict(self, X) -> np.ndarray:
        if self.task == "classification":
            return np.asarray(self.classes)[np.argmax(self.predict_proba(X), axis=1)]
        return self._regress(X)


class VotingEnsembleEstimator(_Ensemble):
    """Soft voting: the weighted mean of the members' probabilities (or predictions).

    members: fitted estimators (classifiers share `classes` and column order);
    names: their model names, for print_model; weights: sum to 1 (Caruana's pick counts).
    """

    def __init__(self, members: Sequence[Any] = (), names: Sequence[str] = (), weights: Sequence[float] = (),
                 task: str = "classification", classes: Sequence | None = None):
        self.members = members
        self.names = names
        self.weights = weights
        self.task = task
        self.classes = classes

    def _combine(self, X) -> np.ndarray:
        w = np.asarray(self.weights, dtype=np.float64)
        preds = member_predictions(self.members, self.task, X)
        return sum(wi * p for wi, p in zip(w, preds)) / w.sum()

    @available_if(_Ensemble._classifies)
    def predict_proba(self, X) -> np.ndarray:
        return self._combine(X)

    _regress = _combine


class StackEnsembleEstimator(_Ensemble):
    """Members' outputs -> meta-learner. Classification meta-learners return calibrated
    probabilities over `classes` (rows sum to 1)."""

    def __init__(self, members: Sequence[Any] = (), names: Sequence[str] = (), meta_learner: Any = None,
                 meta_learner_name: str = "", task: str = "classification", classes: Sequence | None = None):
        self.members = members
        self.names = names
        self.meta_learner = meta_learner
        self.meta_learner_name = meta_learner_name
        self.task = task
        self.classes = classes

    def meta_features(self, X) -> np.ndarray:
        return stack_features(member_predictions(self.members, self.task, X), self.task)

    @available_if(_Ensemble._classifies)
    def predict_proba(self, X) -> np.ndarray:
        return np.asarray(self.meta_learner.predict_proba(self.meta_features(X)), dtype=np.float64)

    def _regress(self, X) -> np.ndarray:
        return np.asarray(self.meta_learner.predict(self.meta_features(X)), dtype=np.float64)


class BaggedEstimator(VotingEnsembleEstimator):
    """One configuration's k fold models averaged with equal weights: each was fit on its fold's training
    part and stopped early on its validation part, as in the search, so the bag is the model whose
    out-of-fold predictions were scored and ensembled (AutoGluon's bagging). A type of its own so that
    explanations and print_model know its members are one learner."""

    @classmethod
    def of(cls, fold_models: Sequence[Any], name: str, task: str, classes: Sequence | None) -> "BaggedEstimator":
        k = len(fold_models)
        return cls(list(fold_models), [name] * k, [1.0] * k, task, classes).fit()
