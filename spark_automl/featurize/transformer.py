"""AutoFeaturizer: the ONE scikit-learn transformer that applies a featurization plan.

Its statistics come from Spark (see plan.py); this class only applies them, so trials,
the final model and batch scoring all run the same code on pandas.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer

from ..errors import DataError

CODE_SUFFIX = "#code"  # the feature a TargetEncoded learner encodes (see models.wrappers.TargetEncoded)
DATETIME_PARTS = ("year", "month", "day", "dayofweek", "dayofyear", "quarter", "week", "hour", "minute", "second")


@dataclass
class ColumnPlan:
    """How one raw column becomes features; `reason` is shown in guardrails / print_model."""

    name: str
    purpose: str  # numeric | categorical | hash | datetime | text | drop
    reason: str = ""
    fill_value: Any = None
    mean: float = 0.0
    scale: float = 1.0
    missing_indicator: bool = False
    vocabulary: list[str] = field(default_factory=list)
    n_buckets: int = 0
    ngram_max: int = 2
    codes: list[str] = field(default_factory=list)  # hash columns: values target-encoded in each fit (#code)

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out["vocabulary"] = len(self.vocabulary)
        return out


class AutoFeaturizer(TransformerMixin, BaseEstimator):
    """Raw pandas rows -> dense float32 features, following a list of ColumnPlan."""

    def __init__(self, plans: list[ColumnPlan] | None = None):
        self.plans = plans

    def fit(self, X: pd.DataFrame | None = None, y=None):
        # Statistics were computed by Spark when the plan was built; nothing to learn here.
        self.feature_names_out_ = np.asarray(self._feature_names(), dtype=object)
        self.input_columns_ = [p.name for p in self.plans or [] if p.purpose != "drop"]
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return self.feature_names_out_

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise DataError(f"AutoFeaturizer expects a pandas DataFrame with the training columns; got {type(X).__name__}.")
        missing = [c for c in self.input_columns_ if c not in X.columns]
        if missing:
            raise DataError(
                f"Input is missing column(s) {missing} that the model was trained with. "
                f"Provide all of: {self.input_columns_}."
            )
        blocks = [self._apply(plan, X[plan.name]) for plan in self.plans if plan.purpose != "drop"]
        if not blocks:
            return np.zeros((len(X), 0), dtype=np.float32)
        return np.hstack(blocks).astype(np.float32, copy=False)

    # ---- per purpose -------------------------------------------------------------
    def _apply(self, plan: ColumnPlan, col: pd.Series) -> np.ndarray:
        return getattr(self, "_" + plan.purpose)(plan, col)

    @staticmethod
    def _numeric(plan: ColumnPlan, col: pd.Series) -> np.ndarray:
        values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        missing = ~np.isfinite(values)  # +-inf is imputed like a missing value
        filled = np.where(missing, plan.fill_value if plan.fill_value is not None else plan.mean, values)
        out = [(filled - plan.mean) / plan.scale]
        if plan.missing_indicator:
            out.append(missing.astype(np.float64))
        return np.column_stack(out)

    @staticmethod
    def _as_text(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        missing = col.isna().to_numpy()
        return col.astype(str).to_numpy(dtype=object), missing

    def _categorical(self, plan: ColumnPlan, col: pd.Series) -> np.ndarray:
        text, missing = self._as_text(col)
        index = {v: i for i, v in enumerate(plan.vocabulary)}
        other = len(plan.vocabulary)
        codes = np.fromiter((index.get(v, other) for v in text), dtype=np.int64, count=len(text))
        width = other + 1 + (1 if plan.missing_indicator else 0)
        out = np.zeros((len(text), width), dtype=np.float64)
        if plan.missing_indicator:
            codes = np.where(missing, other + 1, codes)
        elif plan.fill_value is not None:
            codes = np.where(missing, index.get(str(plan.fill_value), other), codes)
        out[np.arange(len(text)), codes] = 1.0
        return out

    def _hash(self, plan: ColumnPlan, col: pd.Series) -> np.ndarray:
        text, missing = self._as_text(col)
        # pandas' hash is seeded with a fixed key: stable across processes, unlike hash().
        buckets = (pd.util.hash_array(text) % np.uint64(plan.n_buckets)).astype(np.int64)
        out = np.zeros((len(text), plan.n_buckets + 1), dtype=np.float64)
        out[np.arange(len(text)), buckets] = 1.0
        out[missing, :] = 0.0
        out[:, -1] = missing
        if plan.codes:  # the value's index among the frequent ones (-1: rare, unseen or missing)
            index = {v: i for i, v in enumerate(plan.codes)}
            code = np.fromiter((index.get(v, -1) for v in text), dtype=np.float64, count=len(text))
            out = np.column_stack([out, np.where(missing, -1.0, code)])
        return out

    @staticmethod
    def _datetime(plan: ColumnPlan, col: pd.Series) -> np.ndarray:
        stamps = pd.to_datetime(col, errors="coerce", utc=False, format="mixed") if col.dtype == object else pd.to_datetime(col, errors="coerce")
        parts = []
        for part in DATETIME_PARTS:
            values = stamps.dt.isocalendar().week.astype("float64") if part == "week" else getattr(stamps.dt, part)
            parts.append(pd.Series(values).astype("float64").fillna(-1.0).to_numpy())
        return np.column_stack(parts)

    @staticmethod
    def _text(plan: ColumnPlan, col: pd.Series) -> np.ndarray:
        vectorizer = HashingVectorizer(
            n_features=plan.n_buckets, ngram_range=(1, plan.ngram_max), alternate_sign=False, norm="l2"
        )
        return vectorizer.transform(col.fillna("").astype(str)).toarray()

    # ---- names -------------------------------------------------------------------
    def _named_features(self) -> list[tuple[str, str]]:
        """(raw column, feature name) for every output column, in output order."""
        pairs: list[tuple[str, str]] = []
        for plan in self.plans or []:
            n = plan.name
            if plan.purpose == "numeric":
                names = [n] + ([f"{n}__missing"] if plan.missing_indicator else [])
            elif plan.purpose == "categorical":
                names = [f"{n}={v}" for v in plan.vocabulary] + [f"{n}=__other__"]
                names += [f"{n}=__missing__"] if plan.missing_indicator else []
            elif plan.purpose == "hash":
                names = [f"{n}#hash{i}" for i in range(plan.n_buckets)] + [f"{n}=__missing__"]
                names += [f"{n}{CODE_SUFFIX}"] if plan.codes else []
            elif plan.purpose == "datetime":
                names = [f"{n}.{p}" for p in DATETIME_PARTS]
            elif plan.purpose == "text":
                names = [f"{n}#tf{i}" for i in range(plan.n_buckets)]
            else:
                names = []
            pairs += [(n, f) for f in names]
        return pairs

    def categorical_groups(self) -> tuple[tuple[int, ...], ...]:
        """The output columns of each categorical column's one-hot block (exactly one is hot per row)."""
        categorical = {p.name for p in self.plans or [] if p.purpose == "categorical"}
        columns: dict[str, list[int]] = {}
        for i, (raw, _) in enumerate(self._named_features()):
            if raw in categorical:
                columns.setdefault(raw, []).append(i)
        return tuple(tuple(c) for c in columns.values())

    def _feature_names(self) -> list[str]:
        return [f for _, f in self._named_features()]

    def raw_column_of(self) -> list[str]:
        """For each output feature, the raw column it came from (explanations map back with it)."""
        return [raw for raw, _ in self._named_features()]
