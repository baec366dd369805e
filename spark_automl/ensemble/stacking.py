"""Stack ensemble: a meta-learner over the voting ensemble's members.

Under cross-validation the meta-learner trains on the members' out-of-fold predictions
(and is scored by cross-validating it over the same folds). Under a holdout split it
trains on stack_meta_learner_train_percentage of the training rows, predicted by members
fit on the rest, and is scored on the untouched validation rows, as Azure does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
from sklearn.linear_model import ElasticNet, ElasticNetCV, LinearRegression, LogisticRegression, LogisticRegressionCV

from ..data.prepare import SearchData
from ..models import LabelEncodedClassifier
from .estimators import member_predictions, stack_features


@dataclass(frozen=True)
class MetaLearnerSpec:
    name: str
    task: str
    factory: Callable[[Mapping[str, Any], int], Any]
    # a CV meta-learner: (plain learner's name, its kwargs) from the fitted one's chosen settings, so the
    # fold fits that score the stack reuse them instead of repeating the inner search (4x fewer fits)
    settled: Callable[[Any], tuple[str, dict]] | None = None


def _unwrapped(meta):
    return getattr(meta, "estimator_", meta)


def _lightgbm(task: str):
    def build(kwargs, seed):
        import lightgbm as lgb

        cls = lgb.LGBMClassifier if task == "classification" else lgb.LGBMRegressor
        return cls(**{"n_estimators": 100, "learning_rate": 0.05, "num_leaves": 8, "verbose": -1,
                      "random_state": seed, "n_jobs": 1, **kwargs})

    return build


META_LEARNERS: dict[str, MetaLearnerSpec] = {s.name: s for s in (
    MetaLearnerSpec("LogisticRegression", "classification",
                    lambda kw, seed: LogisticRegression(**{"max_iter": 1000, "random_state": seed, **kw})),
    MetaLearnerSpec("LogisticRegressionCV", "classification",
                    lambda kw, seed: LogisticRegressionCV(**{"Cs": 5, "cv": 3, "max_iter": 1000,
                                                             "random_state": seed, **kw}),
                    lambda meta: ("LogisticRegression", {"C": float(np.ravel(_unwrapped(meta).C_)[0])})),
    MetaLearnerSpec("LightGBMClassifier", "classification", _lightgbm("classification")),
    MetaLearnerSpec("ElasticNet", "regression",
                    lambda kw, seed: ElasticNet(**{"alpha": 0.001, "random_state": seed, "max_iter": 5000, **kw})),
    MetaLearnerSpec("ElasticNetCV", "regression",
                    lambda kw, seed: ElasticNetCV(**{"l1_ratio": [0.1, 0.5, 0.9, 1.0], "cv": 3,
                                                     "random_state": seed, "max_iter": 5000, **kw}),
                    lambda meta: ("ElasticNet", {"alpha": float(meta.alpha_), "l1_ratio": float(meta.l1_ratio_)})),
    MetaLearnerSpec("LightGBMRegressor", "regression", _lightgbm("regression")),
    MetaLearnerSpec("LinearRegression", "regression", lambda kw, seed: LinearRegression(**kw)),
)}


def build_meta_learner(name: str, kwargs: Mapping[str, Any] | None, data: SearchData, seed: int):
    """Classification meta-learners are label-wrapped so probabilities cover every class."""
    est = META_LEARNERS[name].factory(dict(kwargs or {}), seed)
    if data.task == "classification":
        return LabelEncodedClassifier(est, classes=list(data.classes))
    return est


def _predict(meta, task: str, X: np.ndarray) -> np.ndarray:
    if task == "classification":
        return np.asarray(meta.predict_proba(X), dtype=np.float64)
    return np.asarray(meta.predict(X), dtype=np.float64)


def _fit(meta, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None):
    """On one BLAS thread: LogisticRegressionCV over wine_quality_white's 7 classes x 5 members took 20.5 s
    on two threads and 0.6 s on one (threads woken for tiny matrix products cost more than the work)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return meta.fit(X, y) if weight is None else meta.fit(X, y, sample_weight=weight)


def cross_validated_stack(member_oof: list[np.ndarray], data: SearchData, name: str, kwargs, seed: int):
    """(meta-learner fit on every out-of-fold row, its own out-of-fold predictions).

    A CV meta-learner with its default settings chooses them once, on every row; the fold fits reuse
    that choice (LogisticRegressionCV on wine_quality_white's 7 classes took ~30 s as four inner searches)."""
    X = stack_features(member_oof, data.task)
    n_out = len(data.classes) if data.task == "classification" else 0
    oof = np.full((data.n_rows, n_out) if n_out else data.n_rows, np.nan)
    final = _fit(build_meta_learner(name, kwargs, data, seed), X, data.y, data.weight)
    settled = META_LEARNERS[name].settled
    fold_name, fold_kwargs = settled(final) if settled is not None and not kwargs else (name, kwargs)
    for train_idx, valid_idx in data.splits:
        w = data.weight[train_idx] if data.weight is not None else None
        meta = _fit(build_meta_learner(fold_name, fold_kwargs, data, seed), X[train_idx], data.y[train_idx], w)
        oof[valid_idx] = _predict(meta, data.task, X[valid_idx])
    return final, oof


def holdout_rows(train_idx: np.ndarray, percentage: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows the members train on, rows the meta-learner trains on): a seeded split of the training part."""
    order = np.random.default_rng(seed).permutation(train_idx)
    n_meta = max(1, int(round(len(order) * percentage)))
    return np.sort(order[n_meta:]), np.sort(order[:n_meta])


def holdout_stack(members_on_share: list, data: SearchData, meta_rows: np.ndarray, name: str, kwargs, seed: int):
    """members_on_share: members fit on the non-meta training rows. Returns (meta, validation predictions)."""
    _, valid_idx = data.splits[0]
    X_meta = stack_features(member_predictions(members_on_share, data.task, data.X[meta_rows]), data.task)
    w = data.weight[meta_rows] if data.weight is not None else None
    meta = _fit(build_meta_learner(name, kwargs, data, seed), X_meta, data.y[meta_rows], w)
    X_valid = stack_features(member_predictions(members_on_share, data.task, data.X[valid_idx]), data.task)
    n_out = len(data.classes) if data.task == "classification" else 0
    oof = np.full((data.n_rows, n_out) if n_out else data.n_rows, np.nan)
    oof[valid_idx] = _predict(meta, data.task, X_valid)
    return meta, oof
