"""Bad data the profile can see is refused before any training: each case asserts the typed
error, that the message names the column or parameter, and that no MLflow run was started."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, Experiment
from spark_automl.errors import DataError

pytestmark = pytest.mark.spark

N = 40
RNG = np.random.default_rng(0)
BASE = pd.DataFrame({"x": RNG.normal(size=N), "c": RNG.choice(["p", "q", "r"], N), "y": ["a", "b"] * (N // 2),
                     "w": np.ones(N), "cv": [1, 0] * (N // 2)})
REG = BASE.assign(y=RNG.normal(size=N))


def _with(frame: pd.DataFrame, column: str, values) -> pd.DataFrame:
    out = frame.copy()
    out[column] = values
    return out


def _renamed(frame: pd.DataFrame, mapping: dict) -> pd.DataFrame:
    return frame.rename(columns=mapping)


CASES = {
    "too few rows": ({"training_data": BASE.head(4)}, "4 labelled rows"),
    "a class with one row": ({"training_data": _with(BASE, "y", ["a", "b"] * (N // 2 - 1) + ["a", "z"])},
                             r"single row, e\.g\. \['z'\]"),
    "no usable feature": ({"training_data": BASE[["y"]].assign(k=7, e=None)}, "No column can be used as a feature"),
    "featurization off, strings only": ({"training_data": BASE[["c", "y"]], "featurization": "off"},
                                        r"c: featurization='off'"),
    "inf in a regression label": ({"task": "regression", "training_data": _with(REG, "y", [np.inf] + list(REG.y[1:]))},
                                  "Label column 'y' has 1 infinite"),
    "constant regression label": ({"task": "regression", "training_data": _with(REG, "y", 3.0)},
                                  "Label column 'y' is constant"),
    "all-zero weights": ({"training_data": _with(BASE, "w", 0.0), "weight_column_name": "w"},
                         "weight_column_name 'w' is 0 in every row"),
    "infinite weight": ({"training_data": _with(BASE, "w", [np.inf] + [1.0] * (N - 1)), "weight_column_name": "w"},
                        "weight_column_name 'w' has 1 infinite"),
    "string weights": ({"training_data": _with(BASE, "w", "1"), "weight_column_name": "w"},
                       "weight_column_name 'w' has type string"),
    "missing weights": ({"training_data": _with(BASE, "w", [None] + [1.0] * (N - 1)), "weight_column_name": "w"},
                        "weight_column_name 'w' is missing in 1 rows"),
    "datetime classification label": ({"training_data": _with(BASE, "y", pd.date_range("2024-01-01", periods=N))},
                                      "Label column 'y' holds dates/times"),
    "too many classes": ({"training_data": pd.DataFrame({"x": np.arange(300.0), "y": [f"k{i % 80}" for i in range(300)]})},
                         "Label column 'y' has 80 classes in 300 rows"),
    "string regression label": ({"task": "regression", "training_data": BASE}, "Label column 'y' has type string"),
    "validation with an unseen class": ({"training_data": BASE, "validation_data": _with(BASE, "y", "new")},
                                        r"validation_data's label column 'y' holds class\(es\) .*\['new'\]"),
    "test data with an unseen class": ({"training_data": BASE, "test_data": _with(BASE, "y", "new")},
                                       r"test_data's label column 'y' holds class\(es\) .*\['new'\]"),
    "string vs int labels": ({"training_data": _with(BASE, "y", [0, 1] * (N // 2)), "validation_data": BASE},
                             "Column 'y' is bigint in training_data but string in validation_data"),
    "feature of another type in validation": ({"training_data": BASE, "validation_data": _with(BASE, "x", "1.5")},
                                              "Column 'x' is double in training_data but string in validation_data"),
    "cv split column all 1s": ({"training_data": _with(BASE, "cv", 1), "cv_split_column_names": ["cv"]},
                               "cv_split_column_names entry 'cv' is 1 in every row"),
    "cv split column all 0s": ({"training_data": _with(BASE, "cv", 0), "cv_split_column_names": ["cv"]},
                               "cv_split_column_names entry 'cv' is 0 in every row"),
    "cv split column of strings": ({"training_data": _with(BASE, "cv", "1"), "cv_split_column_names": ["cv"]},
                                   "cv_split_column_names entry 'cv' has type string"),
    "cv split values 0..4": ({"training_data": _with(BASE, "cv", [0, 1, 2, 3, 4] * (N // 5)),
                              "cv_split_column_names": ["cv"]}, "entry 'cv' holds values from 0 to 4"),
    "cv split with missing values": ({"training_data": _with(BASE, "cv", [None] + [1.0, 0.0] * (N // 2 - 1) + [1.0]),
                                      "cv_split_column_names": ["cv"]}, "entry 'cv' is missing in 1 rows"),
    "test_size leaves too few rows": ({"training_data": BASE, "test_size": 0.9}, "test_size=0.9"),
    "more folds than rows": ({"training_data": BASE.head(12), "n_cross_validations": 20}, "n_cross_validations=20"),
    "a column named __fold__": ({"training_data": _renamed(BASE, {"x": "__fold__"})}, "'__fold__'"),
    "a column named __row_id__": ({"training_data": _renamed(BASE, {"x": "__row_id__"})}, "'__row_id__'"),
    "case-colliding column names": ({"training_data": BASE.assign(X=1.0)}, "'x' and 'X'"),
    "validation with case-colliding names": ({"training_data": BASE, "validation_data": BASE.assign(C="p")},
                                             "validation_data has the columns 'c' and 'C'"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_data_is_refused_before_any_trial(spark, tmp_path, name):
    kwargs, match = CASES[name]
    settings = {"task": "classification", "label_column_name": "y", "iterations": 2, **kwargs}
    uri = f"sqlite:///{tmp_path}/m.db"
    with pytest.raises(DataError, match=match):
        Experiment("bad-input", spark=spark, tracking_uri=uri).submit(AutoMLConfig(**settings))
    if os.path.exists(tmp_path / "m.db"):  # the store may exist; no run was started in it
        client = MlflowClient(uri)
        ids = [e.experiment_id for e in client.search_experiments()]
        assert not client.search_runs(ids)


def test_infinite_feature_values_are_imputed_and_alerted(spark):
    from spark_automl.data.prepare import prepare

    frame = _with(BASE, "x", [np.inf, -np.inf] + list(BASE.x[2:]))
    prepared = prepare(spark, AutoMLConfig(task="classification", training_data=frame, label_column_name="y"))
    guard = next(g for g in prepared.guardrails if g.name == "Missing feature values imputation")
    assert guard.status == "alerted" and "['x']" in guard.description and guard.details[0]["infinite"] == 2
    x = prepared.plan.columns[[p.name for p in prepared.plan.columns].index("x")]
    assert np.isfinite(x.mean) and np.isfinite(prepared.search.X).all()
