"""AutoFeaturizer applies a plan on pandas, the same way everywhere."""

import numpy as np
import pandas as pd
import pytest

from spark_automl.errors import DataError
from spark_automl.featurize.transformer import AutoFeaturizer, ColumnPlan


def _featurizer():
    plans = [
        ColumnPlan("num", "numeric", mean=2.0, scale=2.0, missing_indicator=True),
        ColumnPlan("cat", "categorical", vocabulary=["a", "b"], missing_indicator=True),
        ColumnPlan("city", "hash", n_buckets=8),
        ColumnPlan("when", "datetime"),
        ColumnPlan("note", "text", n_buckets=16),
        ColumnPlan("id", "drop", reason="ID-like"),
    ]
    return AutoFeaturizer(plans).fit()


FRAME = pd.DataFrame({
    "num": [0.0, None, 4.0], "cat": ["a", "z", None], "city": ["Paris", "Lyon", None],
    "when": pd.to_datetime(["2020-01-31 10:00", "2021-06-01 00:00", None]), "note": ["good loan", "", None],
    "id": [1, 2, 3], "extra": [9, 9, 9],
})


def test_values_follow_the_plan():
    f = _featurizer()
    out = f.transform(FRAME)
    names = list(f.get_feature_names_out())
    assert out.shape == (3, len(names)) and out.dtype == np.float32
    col = {n: out[:, i] for i, n in enumerate(names)}
    np.testing.assert_allclose(col["num"], [-1.0, 0.0, 1.0])        # mean-imputed then standardised
    np.testing.assert_allclose(col["num__missing"], [0, 1, 0])
    np.testing.assert_allclose(col["cat=a"], [1, 0, 0])
    np.testing.assert_allclose(col["cat=__other__"], [0, 1, 0])     # unseen category
    np.testing.assert_allclose(col["cat=__missing__"], [0, 0, 1])
    hashed = out[:, [i for i, n in enumerate(names) if n.startswith("city#hash")]]
    np.testing.assert_allclose(hashed.sum(axis=1), [1, 1, 0])
    assert col["when.year"][0] == 2020 and col["when.month"][0] == 1 and col["when.hour"][0] == 10
    assert col["when.year"][2] == -1
    assert "id" not in " ".join(names) and "extra" not in " ".join(names)
    assert f.raw_column_of()[names.index("cat=a")] == "cat"


def test_hashing_is_stable_across_calls():
    a, b = _featurizer().transform(FRAME), _featurizer().transform(FRAME.copy())
    np.testing.assert_array_equal(a, b)


def test_missing_input_column_is_named():
    with pytest.raises(DataError, match=r"missing column\(s\) \['cat'\]"):
        _featurizer().transform(FRAME.drop(columns=["cat"]))
