"""FeaturizationConfig: Azure's customisation object for featurization='auto'."""

from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

from ..errors import ConfigError

_log = logging.getLogger(__name__)

PURPOSES = ("Numeric", "Categorical", "CategoricalHash", "DateTime", "Text", "Ignore")
TRANSFORMERS = ("Imputer", "OneHotEncoder", "HashOneHotEncoder", "TfIdf", "StandardScaler", "MissingIndicator")
BLOCKABLE = ("OneHotEncoder", "HashOneHotEncoder", "TfIdf", "StandardScaler", "MissingIndicator", "CatTargetEncoder",
             "WoETargetEncoder")
# Azure transformers this library never applies: blocking one is accepted and changes nothing (a note says so)
NEVER_USED = {
    "LabelEncoder": "categorical features are one-hot or hash encoded here, never label encoded",
    "TextTargetEncoder": "text target encoding is not applied here",
    "CountVectorizer": "text is featurized with TfIdf here (block TfIdf to drop text features)",
    "WordEmbedding": "no word embeddings here",
    "NaiveBayes": "no naive Bayes text featurizer here",
}
TRANSFORMER_PARAMS: dict[str, dict[str, Any]] = {
    "Imputer": {"strategy": ("mean", "median", "most_frequent", "constant"), "fill_value": None},
    "HashOneHotEncoder": {"number_of_bits": range(1, 21)},
    "TfIdf": {"number_of_bits": range(4, 19), "ngram_max": range(1, 4)},
    "OneHotEncoder": {"max_categories": range(2, 10_001)},
}


class FeaturizationConfig:
    """Column purposes, dropped columns, blocked transformers and transformer parameters.

    Mirrors azureml's FeaturizationConfig: the same method names, checked eagerly so a
    typo fails here, not forty minutes into an experiment.
    """

    def __init__(
        self,
        blocked_transformers: Sequence[str] | None = None,
        column_purposes: Mapping[str, str] | None = None,
        transformer_params: Mapping[str, Sequence[tuple[Sequence[str], Mapping[str, Any]]]] | None = None,
        drop_columns: Sequence[str] | None = None,
    ) -> None:
        self._blocked: list[str] = []
        self.column_purposes: dict[str, str] = {}
        self.transformer_params: dict[str, list[tuple[list[str], dict[str, Any]]]] = {}
        self._drop: list[str] = []
        self.add_blocked_transformers(list(blocked_transformers or []))
        for column, purpose in (column_purposes or {}).items():
            self.add_column_purpose(column, purpose)
        for transformer, entries in (transformer_params or {}).items():
            for columns, params in entries:
                self.add_transformer_params(transformer, columns, params)
        self.add_drop_columns(list(drop_columns or []))

    def add_column_purpose(self, column_name: str, feature_purpose: str) -> None:
        if feature_purpose not in PURPOSES:
            raise ConfigError(
                f"The feature purpose of column {column_name!r} must be one of {', '.join(PURPOSES)}. "
                f"Got {feature_purpose!r} instead."
            )
        self.column_purposes[column_name] = feature_purpose

    def __setstate__(self, state: dict) -> None:
        """Records pickled before the attributes became checked properties still load."""
        for old, new in (("blocked_transformers", "_blocked"), ("drop_columns", "_drop")):
            if old in state:
                state[new] = state.pop(old)
        self.__dict__.update(state)

    # Azure code assigns these attributes directly: the assignment is checked like the add_* methods.
    @property
    def blocked_transformers(self) -> list[str]:
        return self._blocked

    @blocked_transformers.setter
    def blocked_transformers(self, transformers: Sequence[str]) -> None:
        self._replace("_blocked", self.add_blocked_transformers, transformers)

    @property
    def drop_columns(self) -> list[str]:
        return self._drop

    @drop_columns.setter
    def drop_columns(self, columns: Sequence[str]) -> None:
        self._replace("_drop", self.add_drop_columns, columns)

    def _replace(self, attribute: str, add, values: Sequence[str] | None) -> None:
        """An assignment checked by the add_* method; a refused one leaves the old value."""
        previous = getattr(self, attribute)
        setattr(self, attribute, [])
        try:
            add(list(values or []))
        except ConfigError:
            setattr(self, attribute, previous)
            raise

    def add_blocked_transformers(self, transformers: str | Sequence[str]) -> None:
        names = [transformers] if isinstance(transformers, str) else list(transformers)
        unknown = [t for t in names if t not in BLOCKABLE and t not in NEVER_USED]
        if unknown:
            raise ConfigError(
                f"Cannot block transformer(s) {unknown}. Blockable transformers: {', '.join(BLOCKABLE)} "
                f"(and Azure's {', '.join(NEVER_USED)}, which are never applied here)."
            )
        for name in names:
            if name in NEVER_USED:
                _log.info("FeaturizationConfig: blocking %s changes nothing: %s.", name, NEVER_USED[name])
        self._blocked.extend(t for t in names if t not in self._blocked)

    def add_drop_columns(self, drop_columns: str | Sequence[str]) -> None:
        names = [drop_columns] if isinstance(drop_columns, str) else list(drop_columns)
        if not all(isinstance(n, str) for n in names):
            raise ConfigError(f"drop_columns must be column names (str); got {names!r}.")
        self._drop.extend(n for n in names if n not in self._drop)

    def add_transformer_params(self, transformer: str, cols: Sequence[str], params: Mapping[str, Any]) -> None:
        if transformer not in TRANSFORMER_PARAMS:
            raise ConfigError(
                f"Transformer {transformer!r} takes no custom parameters. "
                f"Customisable transformers: {', '.join(TRANSFORMER_PARAMS)}."
            )
        allowed = TRANSFORMER_PARAMS[transformer]
        for key, value in params.items():
            if key not in allowed:
                raise ConfigError(
                    f"Unknown parameter {key!r} for transformer {transformer!r}. Valid: {', '.join(allowed)}."
                )
            if allowed[key] is not None and value not in allowed[key]:
                raise ConfigError(
                    f"Parameter {key!r} of transformer {transformer!r} got {value!r}; valid values: {allowed[key]}."
                )
        self.transformer_params.setdefault(transformer, []).append((list(cols), dict(params)))

    def params_for(self, transformer: str, column: str) -> dict[str, Any]:
        """Parameters for one column: column-specific entries override global ones (cols=[])."""
        merged: dict[str, Any] = {}
        for cols, params in self.transformer_params.get(transformer, []):
            if not cols:
                merged.update(params)
        for cols, params in self.transformer_params.get(transformer, []):
            if column in cols:
                merged.update(params)
        return merged

    def referenced_columns(self) -> set[str]:
        cols = set(self.column_purposes) | set(self.drop_columns)
        for entries in self.transformer_params.values():
            for columns, _ in entries:
                cols.update(columns)
        return cols
