"""A tiny declarative search-space language that compiles to hyperopt.

Specs declare ranges once; we derive the hyperopt expression AND the encoding of a
known-good configuration as a hyperopt point (choice -> index), which hyperopt needs
to seed TPE with the portfolio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hyperopt import hp
from hyperopt.pyll import scope

from ..errors import ConfigError


@dataclass(frozen=True)
class Param:
    kind: str  # "uniform" | "loguniform" | "int" | "logint" | "choice"
    low: float = 0.0
    high: float = 1.0
    options: tuple = ()

    def to_hyperopt(self, label: str):
        if self.kind == "uniform":
            return hp.uniform(label, self.low, self.high)
        if self.kind == "loguniform":
            return hp.loguniform(label, math.log(self.low), math.log(self.high))
        if self.kind == "int":
            return scope.int(hp.quniform(label, self.low, self.high, 1))
        if self.kind == "logint":
            return scope.int(hp.qloguniform(label, math.log(self.low), math.log(self.high), 1))
        if self.kind == "choice":
            return hp.choice(label, list(self.options))
        raise ConfigError(f"unknown Param kind {self.kind!r}")

    def encode(self, value: Any) -> Any:
        """The raw hyperopt value for a concrete setting (an index for a choice)."""
        if self.kind == "choice":
            return list(self.options).index(value)
        return value

    def contains(self, value: Any) -> bool:
        if self.kind == "choice":
            return value in self.options
        return self.low <= value <= self.high


def uniform(low: float, high: float) -> Param:
    return Param("uniform", low, high)


def loguniform(low: float, high: float) -> Param:
    return Param("loguniform", low, high)


def integer(low: int, high: int) -> Param:
    return Param("int", low, high)


def logint(low: int, high: int) -> Param:
    return Param("logint", low, high)


def choice(*options: Any) -> Param:
    return Param("choice", options=tuple(options))
