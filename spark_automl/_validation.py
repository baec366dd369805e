"""Declarative parameter constraints with one message shape (after sklearn's _param_validation)."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from .errors import ConfigError


class Constraint:
    """A predicate on a parameter value plus a human description for the error message."""

    description: str = ""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Options(Constraint):
    values: tuple

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (str, int, float, bool, type(None))) and value in self.values

    @property
    def description(self) -> str:  # type: ignore[override]
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Interval(Constraint):
    kind: type  # int or float (float accepts ints too)
    low: float | None
    high: float | None
    closed: str = "both"  # "both", "left", "right", "neither"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, numbers.Integral):
            return False
        if self.kind is float and not isinstance(value, numbers.Real):
            return False
        low_ok = self.low is None or (value >= self.low if self.closed in ("both", "left") else value > self.low)
        high_ok = self.high is None or (value <= self.high if self.closed in ("both", "right") else value < self.high)
        return bool(low_ok and high_ok)

    @property
    def description(self) -> str:  # type: ignore[override]
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        name = "an int" if self.kind is int else "a number"
        return f"{name} in the range {left}{low}, {high}{right}"


@dataclass(frozen=True)
class InstanceOf(Constraint):
    types: tuple
    label: str

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types) and not (bool not in self.types and isinstance(value, bool) and int in self.types)

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.label


@dataclass(frozen=True)
class Predicate(Constraint):
    check: Callable[[Any], bool]
    label: str

    def accepts(self, value: Any) -> bool:
        try:
            return bool(self.check(value))
        except Exception:
            return False

    @property
    def description(self) -> str:  # type: ignore[override]
        return self.label


NONE = Options((None,))
BOOL = InstanceOf((bool,), "a bool")
STR_LIST = Predicate(lambda v: isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v), "a list of str")
DICT = InstanceOf((dict,), "a dict")


def describe(constraints: Sequence[Constraint]) -> str:
    parts = ["None" if c is NONE else c.description for c in constraints]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def validate_parameters(owner: str, values: Mapping[str, Any], constraints: Mapping[str, Sequence[Constraint]]) -> None:
    """Check every declared parameter; raise ConfigError in the one message shape."""
    for name, allowed in constraints.items():
        value = values[name]
        if allowed and not any(c.accepts(value) for c in allowed):  # [] = any value
            raise ConfigError(
                f"The '{name}' parameter of {owner} must be {describe(allowed)}. Got {short_repr(value)} instead."
            )


def check_choices(owner: str, name: str, given: Iterable[str], valid: Sequence[str]) -> None:
    """Names inside a list parameter (models, columns) must come from a known set."""
    unknown = [g for g in given if g not in valid]
    if unknown:
        raise ConfigError(
            f"The '{name}' parameter of {owner} holds unknown value(s) {unknown}. "
            f"Valid choices: {', '.join(valid)}."
        )


def short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value) if not hasattr(value, "schema") else f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
