"""Profile, splits, featurization plan and the fail-fast data checks, on a real local Spark."""

import numpy as np
import pandas as pd
import pytest

from spark_automl import AutoMLConfig, DataError, Experiment
from spark_automl.data.ingest import with_row_ids
from spark_automl.data.prepare import prepare
from spark_automl.data.profile import profile
from spark_automl.data.split import ValidationTechnique, assign_folds, choose_technique
from spark_automl.spark_utils import FOLD

pytestmark = pytest.mark.spark


def test_profile_matches_pandas(spark, penguins):
    prof = profile(spark.createDataFrame(penguins), "species", classification=True)
    assert prof.n_rows == len(penguins) and prof.n_label_missing == 0
    assert prof.label_counts == penguins["species"].value_counts().to_dict()
    bill = prof.columns["bill_length_mm"]
    assert bill.non_null == penguins["bill_length_mm"].notna().sum()
    assert bill.mean == pytest.approx(penguins["bill_length_mm"].mean())
    assert bill.std == pytest.approx(penguins["bill_length_mm"].std(ddof=0))
    assert prof.columns["island"].distinct == 3 and prof.columns["island"].kind == "string"


def test_default_validation_rules_follow_azure():
    assert choose_technique(25_000, None, None, False, None).kind == "holdout"
    assert choose_technique(25_000, None, None, False, None).validation_size == 0.1
    assert choose_technique(5_000, None, None, False, None).n_folds == 3
    assert choose_technique(999, None, None, False, None).n_folds == 10
    assert choose_technique(999, 4, None, False, None).n_folds == 4
    assert choose_technique(50_000, None, None, True, None).kind == "user_validation"


def test_folds_are_stratified_and_seeded(spark):
    labels = ["rare"] * 5 + ["common"] * 95
    df = with_row_ids(spark.createDataFrame(pd.DataFrame({"x": range(100), "y": labels}))).cache()
    tech = ValidationTechnique("cv", n_folds=5)
    a = assign_folds(df, tech, seed=1, stratify="y").toPandas().sort_values("x")
    b = assign_folds(df, tech, seed=1, stratify="y").toPandas().sort_values("x")
    c = assign_folds(df, tech, seed=2, stratify="y").toPandas().sort_values("x")
    assert (a[FOLD].to_numpy() == b[FOLD].to_numpy()).all()
    assert (a[FOLD].to_numpy() != c[FOLD].to_numpy()).any()
    assert sorted(a.loc[a.y == "rare", FOLD]) == [0, 1, 2, 3, 4]  # one rare row per fold
    assert a[FOLD].value_counts().tolist() == [20] * 5


def test_prepare_builds_plan_and_drops_missing_labels(spark):
    n = 300
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "row_id": np.arange(n), "const": 7, "empty": [None] * n,
        "city": [f"c{i % 120}" for i in range(n)], "grade": rng.choice(["a", "b", "c"], n),
        "x": rng.normal(size=n), "y": rng.choice([0.0, 1.0], n),
    })
    frame.loc[:9, "y"] = np.nan
    before = frame.copy()
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="y")
    prep = prepare(spark, cfg)
    pd.testing.assert_frame_equal(frame, before)  # the user's frame is untouched
    purposes = {p.name: p.purpose for p in prep.plan.columns}
    assert purposes == {"row_id": "drop", "const": "drop", "empty": "drop", "city": "hash",
                        "grade": "categorical", "x": "numeric"}
    assert prep.search.n_rows == n - 10
    assert prep.technique.n_folds == 10
    guard = {g.name: g for g in prep.guardrails}
    assert guard["Missing label handling"].status == "done"
    assert guard["Missing label handling"].details[0]["dropped_rows"] == 10
    assert guard["Constant, empty and ID-like column detection"].status == "done"


def _submit(spark, tmp_path, **kwargs):
    cfg = AutoMLConfig(**{"task": "classification", "label_column_name": "y", "iterations": 2, **kwargs})
    return Experiment("bad-input", spark=spark, tracking_uri=f"sqlite:///{tmp_path}/m.db").submit(cfg)


BASE = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": ["a", "b", "a", "b"], "w": [1.0, 1.0, 2.0, 1.0]})


@pytest.mark.parametrize("kwargs, match", [
    ({"training_data": BASE, "label_column_name": "target"}, "label_column_name 'target' is not a column"),
    ({"training_data": BASE.assign(y=None)}, "null in all 4 rows"),
    ({"training_data": BASE.assign(y="a")}, "single class"),
    ({"training_data": BASE.assign(w=[1.0, -1.0, 1.0, 1.0]), "weight_column_name": "w"}, "negative values"),
    ({"training_data": BASE, "weight_column_name": "weights"}, "weight_column_name 'weights' is not a column"),
    ({"training_data": BASE, "validation_data": BASE.drop(columns=["x"])}, r"lacks column\(s\) \['x'\]"),
    ({"training_data": BASE.iloc[:0]}, "empty"),
    ({"training_data": "/no/such/file.csv"}, "does not exist"),
    ({"training_data": BASE, "positive_label": "c"}, "positive_label 'c' is not a value"),
])
def test_bad_data_fails_before_training(spark, tmp_path, kwargs, match):
    with pytest.raises(DataError, match=match):
        _submit(spark, tmp_path, **kwargs)


def test_regression_label_must_be_numeric(spark, tmp_path):
    with pytest.raises(DataError, match="regression needs a numeric label"):
        _submit(spark, tmp_path, task="regression", training_data=BASE)
