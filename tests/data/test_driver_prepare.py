"""pandas input that fits the driver is prepared without a Spark job, and the same as Spark prepares it."""

import numpy as np
import pandas as pd
import pyspark.sql.functions as F
import pytest

from spark_automl import AutoMLConfig
from spark_automl.data.prepare import prepare
from spark_automl.data.profile import profile, profile_frame
from spark_automl.data.split import (ValidationTechnique, assign_folds, assign_test, fold_ids, held_out_mask,
                                     spark_xxhash64)
from spark_automl.spark_utils import FOLD, IS_TEST, ROW_ID

pytestmark = pytest.mark.spark


def _mixed(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "x": rng.normal(size=n), "count": rng.integers(0, 50, n), "flag": rng.random(n) < 0.3,
        "grade": rng.choice(["a", "b", "c", "d"], n), "city": [f"c{i % 90}" for i in range(n)],
        "when": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        "y": rng.choice(["no", "yes", "maybe"], n, p=[0.6, 0.3, 0.1]),
    })
    frame.loc[::7, "x"] = np.nan
    frame.loc[5, "x"] = np.inf
    frame.loc[::11, "grade"] = None
    return frame


def test_spark_xxhash64_is_reproduced_bit_for_bit(spark):
    ids = np.array([0, 1, 7, 2**33, 2**33 + 5, 123456789012, -3], dtype=np.int64)
    frame = spark.createDataFrame(pd.DataFrame({ROW_ID: ids}))
    for seed in (0, 7919, 2**31 - 1):
        expected = [r[0] for r in frame.select(F.xxhash64(F.col(ROW_ID), F.lit(seed))).collect()]
        assert spark_xxhash64(ids, seed).tolist() == expected


@pytest.mark.parametrize("technique", [ValidationTechnique("cv", n_folds=3),
                                       ValidationTechnique("holdout", validation_size=0.1)])
def test_driver_folds_and_test_rows_equal_sparks(spark, technique):
    frame = _mixed()[["y"]].assign(**{ROW_ID: np.arange(400, dtype=np.int64)})
    out = assign_folds(assign_test(spark.createDataFrame(frame), 0.2, 5, "y"), technique, 5, "y")
    out = out.toPandas().sort_values(ROW_ID)
    ids, strata = frame[ROW_ID].to_numpy(), frame["y"].to_numpy()
    assert (held_out_mask(ids, 0.2, 5, strata) == out[IS_TEST].to_numpy()).all()
    assert (fold_ids(ids, technique, 5, strata) == out[FOLD].to_numpy()).all()


def test_profile_frame_equals_the_spark_profile(spark):
    frame = _mixed()
    sdf = spark.createDataFrame(frame)
    by_spark, by_pandas = profile(sdf, "y", True), profile_frame(frame, sdf.schema, "y", True)
    assert by_pandas.label_counts == by_spark.label_counts and by_pandas.n_rows == by_spark.n_rows
    for name, expected in by_spark.columns.items():
        got = by_pandas.columns[name]
        for field in ("kind", "spark_type", "non_null", "distinct", "is_integer", "n_infinite"):
            assert getattr(got, field) == getattr(expected, field), (name, field)
        for field in ("mean", "std", "min", "max", "avg_length", "numeric_ratio", "datetime_ratio"):
            want = getattr(expected, field)
            assert (getattr(got, field) is None) if want is None else getattr(got, field) == pytest.approx(want), \
                (name, field)


def test_pandas_input_is_prepared_without_a_spark_job_and_as_spark_prepares_it(spark):
    frame = _mixed()
    before = frame.copy()
    config = AutoMLConfig(task="classification", training_data=frame, label_column_name="y", test_size=0.1)
    sc = spark.sparkContext
    sc.setJobGroup("driver-prepare-check", "prepare on the driver")
    try:
        local = prepare(spark, config)
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    assert sc.statusTracker().getJobIdsForGroup("driver-prepare-check") == []
    pd.testing.assert_frame_equal(frame, before)  # the user's frame is untouched
    # one partition: Spark's monotonically increasing ids are the row positions the driver uses
    as_spark = AutoMLConfig(task="classification", label_column_name="y", test_size=0.1,
                            training_data=spark.createDataFrame(frame).coalesce(1))
    in_spark = prepare(spark, as_spark)
    for mine, theirs in zip(local.plan.columns, in_spark.plan.columns):
        a, b = mine.describe(), theirs.describe()
        assert {k: a.pop(k) for k in ("mean", "scale")} == pytest.approx({k: b.pop(k) for k in ("mean", "scale")})
        assert a == b  # purpose, reason, fill value, indicators, buckets
    assert [p.vocabulary for p in local.plan.columns] == [p.vocabulary for p in in_spark.plan.columns]
    key = list(frame.columns)
    pd.testing.assert_frame_equal(local.test_frame.sort_values(key, ignore_index=True),
                                  in_spark.test_frame.sort_values(key, ignore_index=True), check_dtype=False)
    assert abs(len(local.test_frame) - 40) <= 3  # test_size=0.1, rounded per class

    def rows(X: np.ndarray) -> np.ndarray:  # order-free: the two sides return rows in different orders
        X = np.nan_to_num(X, nan=-999.0)
        return X[np.lexsort(X.T[::-1])]

    for (_, a), (_, b) in zip(local.search.splits, in_spark.search.splits):
        np.testing.assert_allclose(rows(local.search.X[a]), rows(in_spark.search.X[b]), rtol=1e-6)
