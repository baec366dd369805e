"""Bad data the profile can see but training can survive: imputed and alerted by a guardrail. (Data that
is refused outright is in the one bad-input suite, tests/test_bad_inputs.py.)"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spark_automl import AutoMLConfig

pytestmark = pytest.mark.spark

N = 40
RNG = np.random.default_rng(0)
BASE = pd.DataFrame({"x": RNG.normal(size=N), "c": RNG.choice(["p", "q", "r"], N), "y": ["a", "b"] * (N // 2),
                     "w": np.ones(N), "cv": [1, 0] * (N // 2)})


def _with(frame: pd.DataFrame, column: str, values) -> pd.DataFrame:
    out = frame.copy()
    out[column] = values
    return out


def test_infinite_feature_values_are_imputed_and_alerted(spark):
    from spark_automl.data.prepare import prepare

    frame = _with(BASE, "x", [np.inf, -np.inf] + list(BASE.x[2:]))
    prepared = prepare(spark, AutoMLConfig(task="classification", training_data=frame, label_column_name="y"))
    guard = next(g for g in prepared.guardrails if g.name == "Missing feature values imputation")
    assert guard.status == "alerted" and "['x']" in guard.description and guard.details[0]["infinite"] == 2
    x = prepared.plan.columns[[p.name for p in prepared.plan.columns].index("x")]
    assert np.isfinite(x.mean) and np.isfinite(prepared.search.X).all()
