"""Global feature importance of a fitted pipeline, reported per RAW input column.

Users reason about the columns they supplied, not about one-hot levels or missing
indicators, so every engineered feature is summed back into its raw column. Tree models
get exact TreeSHAP (fast, no labels needed); everything else (linear, kernel, calibrated,
ensembles) gets permutation importance on the whole pipeline, which is model-agnostic
and already per raw column because the raw DataFrame is what gets permuted.

TreeSHAP comes from the library itself for LightGBM, XGBoost and CatBoost (the same values
shap.TreeExplainer returns, see tree_shap_values) and from shap.TreeExplainer for sklearn trees.

Two public functions:
- explain_model: one row per raw input column (feature, importance, method).
- engineered_importance: one row per engineered feature (feature, raw_feature, importance,
  method). A separate function rather than DataFrame.attrs, because pandas copies and
  compares attrs on every operation: pd.concat of two such frames raises ("truth value of
  a DataFrame is ambiguous").
"""

from __future__ import annotations

import logging
import time

import warnings
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.inspection import permutation_importance
from sklearn.metrics import r2_score
from sklearn.tree import BaseDecisionTree

from .ensemble.estimators import BaggedEstimator
from .errors import ConfigError, DataError, ExplanationBudgetError
from .extras import has_extra, require_extra
from .models import LabelEncodedClassifier

_log = logging.getLogger(__name__)

METHODS = ("auto", "shap", "permutation")
N_REPEATS = 3
_EPS = 1e-15

def _xgboost_contributions(tree: Any, Xf: np.ndarray) -> np.ndarray:
    import xgboost

    return tree.get_booster().predict(xgboost.DMatrix(Xf), pred_contribs=True)


def _catboost_contributions(tree: Any, Xf: np.ndarray) -> np.ndarray:
    import catboost

    return tree.get_feature_importance(catboost.Pool(Xf), type="ShapValues")


# The boosting libraries that compute TreeSHAP themselves, by top-level module (which covers both their
# classifiers and regressors): their contributions, (n, f+1) or per output (n, k, f+1), expected value last.
NATIVE_CONTRIBUTIONS: dict[str, Callable[[Any, np.ndarray], np.ndarray]] = {
    "lightgbm": lambda tree, Xf: tree.booster_.predict(Xf, pred_contrib=True),
    "xgboost": _xgboost_contributions,
    "catboost": _catboost_contributions,
}
# The sklearn learners shap.TreeExplainer reads.
_SKLEARN_TREES = (
    BaseDecisionTree, RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier, ExtraTreesRegressor,
    GradientBoostingClassifier, GradientBoostingRegressor, HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)


# ---- public ----------------------------------------------------------------------------
def explain_model(pipeline: Any, X_raw: pd.DataFrame, y: Any = None, task: str = "classification",
                  classes: Sequence | None = None, max_rows: int = 1000, seed: int = 0,
                  method: str = "auto", max_seconds: float | None = None) -> pd.DataFrame:
    """Importance of every raw input column, sorted descending.

    Columns: feature (raw column), importance (>= 0, sums to 1 unless all are 0), method
    ("shap" | "permutation"). method="auto" uses SHAP for tree models and falls back to
    permutation if SHAP fails; permutation needs `y`. At most `max_rows` rows (seeded sample).
    max_seconds: permutation importance predicts (n_repeats x columns) times, which on wide
    data and an ensemble can take minutes; fewer rows and repeats are used so it fits this time,
    or ExplanationBudgetError says it cannot.
    """
    featurizer, model = _split(pipeline)
    X, y = _sample(X_raw, y, max_rows, seed)
    raw_columns = _raw_columns(featurizer, X)
    shap_error = None
    if _choose(model, method) == "shap":
        try:
            eng = _shap_engineered(featurizer, model, X)
            raw = eng.groupby("raw_feature", sort=False)["importance"].sum()
            return _table(raw_columns, raw.reindex(raw_columns, fill_value=0.0).to_numpy(), "shap")
        except Exception as err:  # noqa: BLE001 - any SHAP failure falls back when the caller allowed it
            if method == "shap":
                raise
            shap_error = err
    _require_labels(y, model, shap_error)
    repeats = N_REPEATS
    if max_seconds is not None:
        rows, repeats = _plan_within(pipeline, X[raw_columns], task, max_seconds)
        X, y = X.iloc[:rows], np.asarray(y)[:rows]
    scores = _permutation(pipeline, X[raw_columns], y, task, classes, repeats)
    return _table(raw_columns, scores, "permutation")


def engineered_importance(pipeline: Any, X_raw: pd.DataFrame, y: Any = None, task: str = "classification",
                          classes: Sequence | None = None, max_rows: int = 1000, seed: int = 0,
                          method: str = "auto") -> pd.DataFrame:
    """Importance of every engineered feature (one-hot level, missing indicator, ...).

    Columns: feature, raw_feature, importance (normalised as in explain_model), method.
    Permutation here shuffles the model's input matrix column by column, so its cost grows
    with the number of engineered features (hashing / text can make thousands).
    """
    featurizer, model = _split(pipeline)
    X, y = _sample(X_raw, y, max_rows, seed)
    shap_error = None
    if _choose(model, method) == "shap":
        try:
            return _finish(_shap_engineered(featurizer, model, X), "shap")
        except Exception as err:  # noqa: BLE001
            if method == "shap":
                raise
            shap_error = err
    _require_labels(y, model, shap_error)
    names, raws = _engineered_names(featurizer, X)
    Xf = featurizer.transform(X) if featurizer is not None else X.to_numpy()
    scores = _permutation(model, Xf, y, task, classes)
    eng = pd.DataFrame({"feature": names, "raw_feature": raws, "importance": scores})
    return _finish(eng, "permutation")


# ---- pipeline anatomy --------------------------------------------------------------------
def _split(pipeline: Any) -> tuple[Any | None, Any]:
    """(featurizer or None, model step). A bare estimator is explained on X as given."""
    steps = getattr(pipeline, "named_steps", None)
    if steps is None:
        return None, pipeline
    featurizer = steps.get("featurizer")
    return featurizer, pipeline.steps[-1][1]


def _raw_columns(featurizer: Any | None, X: pd.DataFrame) -> list[str]:
    """The columns the model actually reads (dropped / extra columns cannot matter)."""
    if featurizer is None:
        return list(X.columns)
    return list(featurizer.input_columns_)


def _engineered_names(featurizer: Any | None, X: pd.DataFrame) -> tuple[list[str], list[str]]:
    if featurizer is None:
        cols = list(X.columns)
        return cols, cols
    return [str(n) for n in featurizer.get_feature_names_out()], list(featurizer.raw_column_of())


def tree_model(model: Any) -> Any | None:
    """The fitted tree learner TreeSHAP can read, unwrapping LabelEncodedClassifier; else None. A bag
    of such learners answers with its first fold model (they share one type)."""
    if isinstance(model, BaggedEstimator):
        trees = [tree_model(m) for m in model.members]
        return trees[0] if trees and all(t is not None for t in trees) else None
    inner = getattr(model, "estimator_", None) if isinstance(model, LabelEncodedClassifier) else model
    if inner is None:
        return None
    module = type(inner).__module__.split(".")[0]
    if module in NATIVE_CONTRIBUTIONS and hasattr(inner, "get_params"):
        return inner
    return inner if isinstance(inner, _SKLEARN_TREES) else None


def _choose(model: Any, method: str) -> str:
    if method not in METHODS:
        raise ConfigError(f"The 'method' parameter must be one of {METHODS}; got {method!r}")
    if method == "permutation":
        return "permutation"
    tree = tree_model(model)
    if tree is not None and (_native_shap(tree) or has_extra("explain")):
        return "shap"
    if tree is not None and method == "shap":
        require_extra("explain", f"method='shap' for a {type(tree).__name__}")
    if tree is not None:  # method='auto' without shap installed: the model-agnostic method
        _log.info("explain: shap is not installed (the 'explain' extra); %s is explained by permutation "
                  "importance.", type(tree).__name__)
        return "permutation"
    if method == "shap":
        raise ConfigError(f"method='shap' needs a tree model (LightGBM, XGBoost, CatBoost, sklearn trees); got "
                         f"{type(model).__name__}. Use method='auto' or 'permutation'.")
    return "permutation"


# ---- sampling ------------------------------------------------------------------------------
def _sample(X: pd.DataFrame, y: Any, max_rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray | None]:
    """A seeded sample of at most max_rows rows; explanations stabilise long before all rows."""
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"X_raw must be a pandas DataFrame of raw columns; got {type(X).__name__}")
    if y is not None and len(y) != len(X):
        raise DataError(f"y has {len(y)} rows but X_raw has {len(X)}")
    if max_rows < 1:
        raise ConfigError(f"The 'max_rows' parameter must be >= 1; got {max_rows}")
    rows = np.arange(len(X))
    if len(X) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), size=max_rows, replace=False))
    y_out = None if y is None else np.asarray(y)[rows]
    return X.iloc[rows].reset_index(drop=True), y_out


def _require_labels(y: Any, model: Any, shap_error: Exception | None = None) -> None:
    if y is None:
        why = (f"SHAP failed ({type(shap_error).__name__}: {shap_error})" if shap_error is not None
               else "only tree models are explained with SHAP, which needs no labels")
        raise DataError(f"Permutation importance needs the labels: pass y to explain a "
                         f"{type(model).__name__} model ({why}).")


# ---- SHAP ----------------------------------------------------------------------------------
def _shap_engineered(featurizer: Any | None, model: Any, X: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| per engineered feature, summed over classes."""
    names, raws = _engineered_names(featurizer, X)
    Xf = featurizer.transform(X) if featurizer is not None else X.to_numpy(dtype=np.float32)
    members = model.members if isinstance(model, BaggedEstimator) else [model]  # a bag: its fold models' mean
    importance = np.mean([mean_abs_shap(tree_shap_values(tree_model(m), Xf), len(names)) for m in members], axis=0)
    return pd.DataFrame({"feature": names, "raw_feature": raws, "importance": importance})


def tree_shap_values(tree: Any, Xf: np.ndarray) -> Any:
    """TreeSHAP values (tree_path_dependent), (n, f) or (n, f, k).

    LightGBM (pred_contrib), XGBoost (pred_contribs) and CatBoost (ShapValues) compute them
    themselves (NATIVE_CONTRIBUTIONS), exactly what shap.TreeExplainer returns for them, but without
    shap's ~2 s import and its parse of every tree (1 s for 800 trees x 63 leaves), and without the
    'explain' extra. Other learners go through shap.TreeExplainer.
    """
    contributions = NATIVE_CONTRIBUTIONS.get(type(tree).__module__.split(".")[0])
    if contributions is not None:
        phi = np.asarray(contributions(tree, Xf), dtype=np.float64)
        width = Xf.shape[1] + 1  # per output: one value per feature, then the expected value
        if phi.ndim == 2 and phi.shape[1] != width:  # LightGBM's multiclass: the outputs side by side
            phi = phi.reshape(len(Xf), phi.shape[1] // width, width)
        return phi[..., :-1].transpose(0, 2, 1) if phi.ndim == 3 else phi[:, :-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shap's import-time matplotlib deprecations
        import shap

        return shap.TreeExplainer(tree).shap_values(Xf, check_additivity=False)


def _native_shap(tree: Any) -> bool:
    """LightGBM, XGBoost and CatBoost compute TreeSHAP themselves; other trees need the shap package."""
    return type(tree).__module__.split(".")[0] in NATIVE_CONTRIBUTIONS


def mean_abs_shap(values: Any, n_features: int) -> np.ndarray:
    """Mean |SHAP| per feature from any shap output: (n, f), (n, f, k) or a list of k (n, f)."""
    arr = np.stack([np.asarray(v) for v in values], axis=-1) if isinstance(values, list) else np.asarray(values)
    arr = np.abs(arr.astype(np.float64, copy=False))
    if arr.ndim == 2:
        return arr.mean(axis=0)
    if arr.ndim != 3:
        raise ValueError(f"unexpected SHAP output shape {arr.shape}")
    # shap >= 0.45 puts classes last; older layouts put them first. Find the feature axis.
    axis = 1 if arr.shape[1] == n_features else 2
    return arr.mean(axis=0).sum(axis=1) if axis == 1 else arr.mean(axis=1).sum(axis=0)


# ---- permutation -----------------------------------------------------------------------------
MIN_PERMUTATION_ROWS = 50


def _plan_within(pipeline: Any, X: pd.DataFrame, task: str, max_seconds: float) -> tuple[int, int]:
    """(rows, repeats) for which the (repeats x columns + 1) predictions fit in max_seconds.

    A prediction costs a fixed part (featurizing, every ensemble member's call) plus a part per
    row; both are timed on two probes. Repeats drop to 1 before rows go below MIN_PERMUTATION_ROWS;
    when even that does not fit, the explanation is refused (ExplanationBudgetError)."""
    predict = pipeline.predict_proba if task == "classification" and hasattr(pipeline, "predict_proba") \
        else pipeline.predict
    small, large = X.iloc[: min(len(X), 10)], X.iloc[: min(len(X), 200)]
    timings = []
    for probe in (small, large):
        t0 = time.perf_counter()
        predict(probe)
        timings.append(time.perf_counter() - t0)
    per_row = max(timings[1] - timings[0], 0.0) / max(len(large) - len(small), 1)
    fixed = max(timings[0] - per_row * len(small), 0.0)
    for repeats in range(N_REPEATS, 0, -1):
        calls = repeats * X.shape[1] + 1
        rows = int((max_seconds / calls - fixed) / max(per_row, 1e-9))
        if rows >= min(len(X), MIN_PERMUTATION_ROWS):
            return min(len(X), rows), repeats
    needed = (X.shape[1] + 1) * (fixed + per_row * min(len(X), MIN_PERMUTATION_ROWS))
    raise ExplanationBudgetError(
        f"a permutation explanation of {X.shape[1]} columns needs about {needed:.0f}s, more than the "
        f"{max_seconds:.0f}s left in the budget; call run.explain() after the run")


def _permutation(estimator: Any, X: Any, y: np.ndarray, task: str, classes: Sequence | None,
                 repeats: int = N_REPEATS) -> np.ndarray:
    result = permutation_importance(estimator, X, y, scoring=_scorer(estimator, y, task, classes),
                                    n_repeats=repeats, random_state=0, n_jobs=None)
    return np.clip(np.nan_to_num(result.importances_mean, nan=0.0), 0.0, None)


def _scorer(estimator: Any, y: np.ndarray, task: str, classes: Sequence | None) -> Callable:
    """Callables, not sklearn scorer names: those need classifier tags our ensembles lack and
    assume sorted class columns, while ours follow `classes`."""
    if task == "regression":
        return lambda est, X, yt: r2_score(yt, np.asarray(est.predict(X), dtype=np.float64))
    if task != "classification":
        raise ConfigError(f"The 'task' parameter must be 'classification' or 'regression'; got {task!r}")
    known = classes if classes is not None else getattr(estimator, "classes_", None)
    if known is not None and hasattr(estimator, "predict_proba"):
        index = {c: i for i, c in enumerate(np.asarray(known).tolist())}
        if len(index) >= 2 and all(v in index for v in np.unique(y).tolist()):
            def neg_log_loss(est, X, yt):
                proba = np.asarray(est.predict_proba(X), dtype=np.float64)
                codes = np.fromiter((index[v] for v in yt.tolist()), dtype=np.int64, count=len(yt))
                return float(np.log(np.clip(proba[np.arange(len(yt)), codes], _EPS, 1.0)).mean())

            return neg_log_loss
    return lambda est, X, yt: float(np.mean(np.asarray(est.predict(X)) == yt))


# ---- tables ----------------------------------------------------------------------------------
def _normalise(values: np.ndarray) -> np.ndarray:
    values = np.clip(np.asarray(values, dtype=np.float64), 0.0, None)
    total = values.sum()
    return values / total if total > 0 else values


def _table(raw_columns: list[str], importance: np.ndarray, method: str) -> pd.DataFrame:
    out = pd.DataFrame({"feature": raw_columns, "importance": _normalise(importance), "method": method})
    return out.sort_values("importance", ascending=False, kind="mergesort").reset_index(drop=True)


def _finish(eng: pd.DataFrame, method: str) -> pd.DataFrame:
    eng = eng.assign(importance=_normalise(eng["importance"].to_numpy()), method=method)
    return eng.sort_values("importance", ascending=False, kind="mergesort").reset_index(drop=True)
