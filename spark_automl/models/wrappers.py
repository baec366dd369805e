"""Estimator wrappers that give every classifier the same contract.

Trials and the final model rely on predict_proba having one column per class of the
WHOLE training label, even when a fold lacks a rare class, and on string labels
working for learners (XGBoost) that only accept 0..k-1.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.calibration import CalibratedClassifierCV

from ..errors import DataError


def map_eval_rows(fit_params: dict, fn) -> dict:
    """fn(X_valid, y_valid) -> (X, y) applied to the validation rows a boosting learner watches, in
    either form: XGBoost's eval_set=[(X, y)], LightGBM's eval_X=, eval_y=."""
    if "eval_set" in fit_params:
        return {**fit_params, "eval_set": [fn(Xv, yv) for Xv, yv in fit_params["eval_set"]]}
    if "eval_X" in fit_params:
        Xv, yv = fn(fit_params["eval_X"], fit_params["eval_y"])
        return {**fit_params, "eval_X": Xv, "eval_y": yv}
    return fit_params


class LabelEncodedClassifier(ClassifierMixin, BaseEstimator):
    """Fits `estimator` on label indices into `classes`; predicts the original labels."""

    def __init__(self, estimator: Any = None, classes: Sequence | None = None, weight_param: str = "sample_weight"):
        self.estimator = estimator
        self.classes = classes
        self.weight_param = weight_param

    def fit(self, X, y, sample_weight=None, **fit_params):
        """fit_params pass to the learner; watched validation labels are encoded like y's, and their rows
        of classes this fit does not have are left out (the learner knows no such class)."""
        y = np.asarray(y)
        self.classes_ = np.asarray(self.classes) if self.classes is not None else np.unique(y)
        index = {c: i for i, c in enumerate(self.classes_.tolist())}
        codes = self._codes(y, index)
        present = np.unique(codes)
        # Learners want contiguous codes 0..m-1; remember where each column goes back.
        self.present_codes_ = present
        remap = np.full(len(self.classes_), -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        self.estimator_ = clone(self.estimator)
        kwargs = {self.weight_param: sample_weight} if sample_weight is not None else {}
        fit_params = map_eval_rows(fit_params, lambda Xv, yv: self._eval_pair(Xv, yv, index, remap))
        if len(present) == 1:
            self.estimator_ = None  # degenerate fold: constant prediction
        else:
            self.estimator_.fit(X, remap[codes], **kwargs, **fit_params)
        self.n_features_in_ = X.shape[1]
        return self

    def _codes(self, y: np.ndarray, index: dict) -> np.ndarray:
        try:
            return np.fromiter((index[v] for v in y.tolist()), dtype=np.int64, count=len(y))
        except KeyError as err:
            raise DataError(f"label {err.args[0]!r} is not among the declared classes {self.classes_.tolist()}") from None

    def _eval_pair(self, X_valid, y_valid, index: dict, remap: np.ndarray):
        codes = remap[self._codes(np.asarray(y_valid), index)]
        known = codes >= 0
        return X_valid[known], codes[known]

    @classmethod
    def from_fitted(cls, estimator: Any, classes: Sequence, present_codes: Sequence[int],
                    n_features: int) -> "LabelEncodedClassifier":
        """Wrap a learner trained elsewhere (a distributed refit) on the codes 0..m-1 of the
        classes at `present_codes`, so it predicts like one fitted here."""
        wrapper = cls(None, classes=list(classes))
        wrapper.classes_ = np.asarray(classes)
        wrapper.present_codes_ = np.asarray(present_codes, dtype=np.int64)
        wrapper.estimator_ = estimator if len(present_codes) > 1 else None
        wrapper.n_features_in_ = n_features
        return wrapper

    def predict_proba(self, X) -> np.ndarray:
        out = np.zeros((X.shape[0], len(self.classes_)), dtype=np.float64)
        if self.estimator_ is None:
            out[:, self.present_codes_[0]] = 1.0
            return out
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        out[:, self.present_codes_] = proba
        return out

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


WOE_EPS = 1e-6


class TargetEncoded(BaseEstimator):
    """Target encoding of the high-cardinality categorical code columns (Azure's CatTargetEncoder,
    and WoETargetEncoder for binary labels: the log-odds of the category's smoothed positive rate).

    The encoder is learnt inside each fit, on that fit's rows only, so a validation fold's own
    labels never reach its encoding; scikit-learn's TargetEncoder also cross-fits within the
    training rows, so the learner does not see in-sample encodings either."""

    def __init__(self, estimator: Any = None, columns: Sequence[int] = (), woe: bool = False, seed: int = 0):
        self.estimator = estimator
        self.columns = columns
        self.woe = woe
        self.seed = seed

    def fit(self, X, y, **fit_params):
        from sklearn.preprocessing import TargetEncoder

        X = np.asarray(X)
        self.encoder_ = TargetEncoder(random_state=self.seed)
        encoded = self.encoder_.fit_transform(self._codes(X), y)
        # validation rows get this fit's encoding, as predictions would
        fit_params = map_eval_rows(fit_params, lambda Xv, yv: (self._encoded(Xv), yv))
        self.estimator_ = clone(self.estimator).fit(self._with(X, encoded), y, **fit_params)
        self.n_features_in_ = X.shape[1]
        return self

    def _codes(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X[:, list(self.columns)], dtype=np.int64)

    def _with(self, X: np.ndarray, encoded: np.ndarray) -> np.ndarray:
        out = np.array(X, dtype=np.float64, copy=True)
        if self.woe:
            p = np.clip(encoded, WOE_EPS, 1 - WOE_EPS)
            encoded = np.log(p / (1 - p))
        out[:, list(self.columns)] = encoded
        return out

    def _encoded(self, X) -> np.ndarray:
        X = np.asarray(X)
        return self._with(X, self.encoder_.transform(self._codes(X)))

    def predict(self, X):
        return self.estimator_.predict(self._encoded(X))

    def predict_proba(self, X):
        return self.estimator_.predict_proba(self._encoded(X))


class LogTarget(RegressorMixin, BaseEstimator):
    """A regressor learnt on log1p(y), predicting expm1 of its output: for non-negative, skewed targets
    (prices, counts) the errors become relative. The search decides per data set, on the original scale
    (the 'target_transform' choice of every regression learner)."""

    def __init__(self, estimator: Any = None):
        self.estimator = estimator

    def fit(self, X, y, **fit_params):
        # a boosting learner stops on the same scale it learns
        fit_params = map_eval_rows(fit_params, lambda Xv, yv: (Xv, np.log1p(np.asarray(yv, dtype=np.float64))))
        self.estimator_ = clone(self.estimator).fit(X, np.log1p(np.asarray(y, dtype=np.float64)), **fit_params)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X) -> np.ndarray:
        return np.expm1(np.asarray(self.estimator_.predict(X), dtype=np.float64))


class CategoryCodes(BaseEstimator):
    """A learner with its own categorical splits (LightGBM) sees each one-hot block of the featurizer as
    one integer column (the block's hot position), declared categorical; the other columns pass as they
    are. The search decides per data set (LightGBM's 'categorical' choice: 'onehot' | 'native')."""

    def __init__(self, estimator: Any = None, groups: Sequence[Sequence[int]] = ()):
        self.estimator = estimator
        self.groups = groups

    def _collapse(self, X) -> np.ndarray:
        X = np.asarray(X)
        grouped = [i for g in self.groups for i in g]
        keep = np.setdiff1d(np.arange(X.shape[1]), grouped)
        codes = [np.argmax(X[:, list(g)], axis=1) for g in self.groups]
        return np.column_stack([X[:, keep], *codes]) if codes else X

    def fit(self, X, y, **fit_params):
        n_kept = np.asarray(X).shape[1] - sum(len(g) for g in self.groups)
        fit_params = map_eval_rows(fit_params, lambda Xv, yv: (self._collapse(Xv), yv))
        self.estimator_ = clone(self.estimator).fit(
            self._collapse(X), y, categorical_feature=list(range(n_kept, n_kept + len(self.groups))), **fit_params)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return self.estimator_.predict(self._collapse(X))

    def predict_proba(self, X):
        return self.estimator_.predict_proba(self._collapse(X))


class RareClassCalibratedClassifierCV(CalibratedClassifierCV):
    """Sigmoid calibration of a margin classifier (SVM, perceptron) whose folds never outnumber the
    rarest class's rows: scikit-learn refuses cv=3 when a class has 2 rows in a training fold (wine
    quality's grade 9: 5 rows in 4,898), which failed every such trial. Two folds at least."""

    def fit(self, X, y, sample_weight=None, **fit_params):
        asked = self.cv
        if isinstance(asked, int):
            rarest = int(np.unique(np.asarray(y), return_counts=True)[1].min())
            self.cv = max(2, min(asked, rarest))
        try:
            return super().fit(X, y, sample_weight=sample_weight, **fit_params)
        finally:
            self.cv = asked
