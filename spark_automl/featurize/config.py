"""FeaturizationConfig: Azure's customisation object for featurization='auto'."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import ConfigError

PURPOSES = ("Numeric", "Categorical", "CategoricalHash", "DateTime", "Text", "Ignore")
TRANSFORMERS = ("Imputer", "OneHotEncoder", "HashOneHotEncoder", "TfIdf", "StandardScaler", "MissingIndicator")
BLOCKABLE = ("OneHotEncoder", "HashOneHotEncoder", "TfIdf", "StandardScaler", "MissingIndicator")
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
        self.blocked_transformers: list[str] = []
        self.column_purposes: dict[str, str] = {}
        self.transformer_params: dict[str, list[tuple[list[str], dict[str, Any]]]] = {}
        self.drop_columns: list[str] = []
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

    def add_blocked_transformers(self, transformers: str | Sequence[str]) -> None:
        names = [transformers] if isinstance(transformers, str) else list(transformers)
        unknown = [t for t in names if t not in BLOCKABLE]
        if unknown:
            raise ConfigError(
                f"Cannot block transformer(s) {unknown}. Blockable transformers: {', '.join(BLOCKABLE)}."
            )
        self.blocked_transformers.extend(t for t in names if t not in self.blocked_transformers)

    def add_drop_columns(self, drop_columns: str | Sequence[str]) -> None:
        names = [drop_columns] if isinstance(drop_columns, str) else list(drop_columns)
        self.drop_columns.extend(n for n in names if n not in self.drop_columns)

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
