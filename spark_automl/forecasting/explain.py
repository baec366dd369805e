"""Explanations of a forecaster: which lag, calendar and covariate features its global learners rely on.

A global learner is a regression over LagFeaturizer features, so its importance is measured as in the
tabular case, by permutation (scikit-learn's permutation_importance): the increase in one-step-ahead MAE
when one feature's values are shuffled, on a seeded sample of the rows it was trained on. Statistical
members (ETS, ARIMA...) have no features: their forecast is a function of each series' own past.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .features import training_matrix

MAX_ROWS = 5000  # training rows permuted per member: enough for a stable ranking, seconds per member
N_REPEATS = 3
METHOD = "permutation (one-step-ahead MAE increase, per-series standardised target)"
_KINDS = (("y_lag", "target lag"), ("y_roll", "target rolling window"), ("cal_", "calendar"),
          ("time_index", "trend"), ("is_holiday", "holidays"), ("days_to_holiday", "holidays"),
          ("days_since_holiday", "holidays"), ("holidays_in_period", "holidays"), ("series_", "series identity"),
          ("stl_", "STL decomposition"))


def feature_kind(name: str) -> str:
    return next((kind for prefix, kind in _KINDS if name.startswith(prefix)), "covariate")


def _history(model, member) -> pd.DataFrame:
    """The member's training history, or for a large panel the first stored file of series."""
    if getattr(member, "history", None) is not None:
        return member.history
    groups = model.store.groups(sorted(model.schema.last_time))
    part, uids = next(iter(groups.items()))
    return model.store.read(part, uids)


def explain_forecaster(model, seed: int = 0, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """feature, kind, importance (MAE increase, weighted over the global members), share, method."""
    from sklearn.inspection import permutation_importance

    members = [(m, w) for m, w in zip(model.members, model.weights) if getattr(m, "kind", "") == "global"]
    if not members:
        raise ConfigError(f"The model ({' + '.join(model.names)}) has no global learner to explain: statistical "
                          "forecasters use no features, only each series' own past. Explain a child whose model is "
                          "a learner over lag features (LightGBM, XGBoostRegressor, ElasticNet...): "
                          "run.explain(iteration=<its iteration>).")
    total = sum(w for _, w in members) or 1.0
    parts = []
    for member, weight in members:
        X, y, _ = training_matrix(member.featurizer, member._scaled(_history(model, member)))
        X = np.asarray(X, dtype=np.float64)
        if len(y) > max_rows:
            rows = np.random.default_rng(seed).choice(len(y), max_rows, replace=False)
            X, y = X[rows], y[rows]
        found = permutation_importance(member.estimator, X, y, scoring="neg_mean_absolute_error",
                                       n_repeats=N_REPEATS, random_state=seed)
        parts.append(pd.Series(found.importances_mean * (weight / total), index=member.featurizer.feature_names_))
    importance = pd.concat(parts, axis=1).fillna(0.0).sum(axis=1)
    out = pd.DataFrame({"feature": importance.index, "importance": importance.to_numpy()})
    out["kind"] = out["feature"].map(feature_kind)
    positive = out["importance"].clip(lower=0.0)
    out["share"] = positive / positive.sum() if positive.sum() > 0 else 0.0
    out["method"] = METHOD
    return out.sort_values("importance", ascending=False, kind="mergesort").reset_index(drop=True)[
        ["feature", "kind", "importance", "share", "method"]]
