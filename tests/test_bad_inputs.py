"""Bad input, all in one suite: configs, tabular data, forecasting data and job YAMLs.

Every case goes the way a user's would (AutoMLConfig + Experiment.submit, or the job command) and
asserts the typed error class, a message naming the column or parameter (the `match` pattern holds
the name), and that no MLflow run was started. The Spark cases use the shared session; the
forecasting ones run on the 4.3 lane only (CI time).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, Experiment
from spark_automl.errors import ConfigError, DataError

# ---- configs: refused when AutoMLConfig is built ------------------------------------------------
DF = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
CONFIG_CASES = [
        ({"task": "clustering"}, "'task' parameter of AutoMLConfig must be one of 'classification', 'regression'"),
        ({"task": "classification", "primary_metric": "r2_score"}, "'primary_metric' parameter"),
        ({"task": "regression", "primary_metric": "AUC_weighted"}, "for task 'regression'"),
        ({"task": "classification", "experiment_timeout_minutes": 0}, "'experiment_timeout_minutes'"),
        ({"task": "classification", "experiment_timeout_minutes": -5}, "range (0, inf)"),
        ({"task": "classification", "iterations": 0}, "'iterations'"),
        ({"task": "classification", "max_concurrent_iterations": 0}, "'max_concurrent_iterations'"),
        ({"task": "classification", "allowed_models": ["NotAModel"]}, "unknown value(s) ['NotAModel']"),
        ({"task": "regression", "allowed_models": ["XGBoostClassifier"]}, "Valid choices"),
        ({"task": "classification", "allowed_models": ["LightGBM"], "blocked_models": ["LightGBM"]}, "leave no model"),
        ({"task": "classification", "n_cross_validations": 1}, "'n_cross_validations'"),
        ({"task": "classification", "n_cross_validations": 3, "validation_data": DF}, "not both"),
        ({"task": "classification", "test_size": 0.2, "test_data": DF}, "not both"),
        ({"task": "classification", "validation_size": 1.5}, "'validation_size'"),
        ({"task": "classification", "featurization": "yes"}, "'featurization'"),
        ({"task": "classification", "training_data": DF}, "'label_column_name' parameter of AutoMLConfig is required"),
        ({"task": "classification", "training_data": 42, "label_column_name": "y"}, "'training_data'"),
        ({"task": "classification", "label_column_name": "y", "weight_column_name": "y"}, "names the label column"),
        ({"task": "regression", "positive_label": 1}, "only applies to task='classification'"),
        ({"task": "classification", "experiment_timeout_minutes": 1, "experiment_timeout_hours": 1}, "only one"),
        ({"task": "classification", "enable_early_stopping": "yes"}, "must be a bool"),
        ({"task": "classification", "backend": "dask"}, "'backend'"),
]

# ---- tabular data: refused from the schema or the profile, before any trial -----------------------
N = 40  # the tabular cases' frame
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


DATA_CASES = {
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


# ---- forecasting data and settings -------------------------------------------------------------
NS = 60  # points per forecasting series
SERIES = pd.DataFrame({
    "day": list(pd.date_range("2024-01-01", periods=NS, freq="D")) * 2,
    "store": ["a"] * NS + ["b"] * NS,
    "price": np.linspace(1.0, 2.0, 2 * NS),
    "sales": np.sin(np.arange(2 * NS) / 3.0) * 10 + 50,
})


def _series_with(column: str, values, frame: pd.DataFrame = SERIES) -> pd.DataFrame:
    out = frame.copy()
    out[column] = values
    return out


def _one(index: int, value, column: str) -> list:
    values = list(SERIES[column])
    values[index] = value
    return values


SERIES_SETTINGS = {"time_column_name": "day", "time_series_id_column_names": ["store"], "forecast_horizon": 5}

FORECAST_CASES = {
    "time column missing": (DataError, {"time_column_name": "date"}, SERIES, "time_column_name 'date'"),
    "series id column missing": (DataError, {"time_series_id_column_names": ["shop"]}, SERIES, r"\['shop'\]"),
    "label column missing": (DataError, {}, SERIES.drop(columns=["sales"]), "label_column_name 'sales'"),
    "unparseable time values": (DataError, {}, _series_with("day", SERIES["day"].astype(str).where(SERIES.index != 3, "someday")),
                                r"'day' has 1 value\(s\) that do not parse.*someday"),
    "time column mixing types": (DataError, {}, _series_with("day", _one(3, "someday", "day")),
                                 r"Column 'day' of 'training_data' mixes value types \(Timestamp, str\)"),
    "text in the target": (DataError, {}, _series_with("sales", _one(4, "n/a", "sales")), "Target column 'sales'"),
    "infinite target": (DataError, {}, _series_with("sales", _one(7, np.inf, "sales")),
                        r"Target column 'sales' has 1 value\(s\) that are not finite"),
    "missing series id": (DataError, {}, _series_with("store", _one(2, None, "store")), r"\{'store': 1\}"),
    "duplicate (series, time) rows": (DataError, {}, pd.concat([SERIES, SERIES.head(3)]), "target_aggregation_function"),
    "unknown freq alias": (DataError, {"freq": "fortnightly"}, SERIES, "freq='fortnightly'"),
    "times off the freq grid": (DataError, {"freq": "W"}, SERIES, "grid"),
    "horizon longer than the series": (DataError, {"forecast_horizon": 200,
                                                   "short_series_handling_configuration": None}, SERIES, "short"),
    "zero horizon": (ConfigError, {"forecast_horizon": 0}, SERIES, "forecast_horizon"),
    "bad holiday country": (ConfigError, {"country_or_region_for_holidays": "Atlantis"}, SERIES,
                            "country_or_region_for_holidays"),
    "forecasting setting on a regression task": (ConfigError, {"task": "regression"}, SERIES,
                                                 "task='forecasting'"),
    "bad short series handling": (ConfigError, {"short_series_handling_configuration": "maybe"}, SERIES,
                                  "short_series_handling_configuration"),
    "bad aggregation function": (ConfigError, {"target_aggregation_function": "median"}, SERIES,
                                 "target_aggregation_function"),
    "unknown forecasting model": (ConfigError, {"allowed_models": ["Autoarima"]}, SERIES, "Autoarima"),
    "classification metric": (ConfigError, {"primary_metric": "AUC_weighted"}, SERIES, "primary_metric"),
    "random test split of a series": (ConfigError, {"test_size": 0.2}, SERIES, "test_size=0.2 .* pass test_data"),
    "test rows without the label": (DataError, {"test_data": SERIES.drop(columns=["sales"]).tail(5)}, SERIES,
                                    r"test_data lacks column\(s\) \['sales'\]"),
    "integer time unit that is no offset": (ConfigError, {"time_step_unit": "fortnight"}, SERIES, "time_step_unit"),
}


# ---- job YAMLs: every key checked before Spark starts or data is read ------------------------------
GOOD_JOB = {"experiment_name": "e", "tracking_uri": "sqlite:///{store}", "spark": {"master": "local[1]"},
            "register": {"model_name": "m"}, "automl": {"task": "classification", "label_column_name": "y"}}


def _train_yaml(**change: Any) -> str:
    import yaml

    return yaml.safe_dump({**GOOD_JOB, **change})


JOB_CASES = {
    "train: spark as a string": ("train", _train_yaml(spark="local[1]"), r"'spark' .* must be None or a dict\. Got 'local\[1\]'"),
    "train: register: yes": ("train", _train_yaml(register=True), r"'register' .* must be None or a dict\. Got True"),
    "train: a cluster master in YAML": ("train", _train_yaml(spark={"master": "yarn"}), r"'master' .* a local master"),
    "train: an unknown spark key": ("train", _train_yaml(spark={"mastr": "local[1]"}),
                                    r"Unknown key\(s\) \['mastr'\] under 'spark'"),
    "train: a numeric model name": ("train", _train_yaml(register={"model_name": 5}),
                                    r"'model_name' .* a non-empty str\. Got 5"),
    "train: an unknown register key": ("train", _train_yaml(register={"version": 2}),
                                       r"Unknown key\(s\) \['version'\] under 'register'"),
    "train: an empty experiment name": ("train", _train_yaml(experiment_name=" "), r"'experiment_name' .* a non-empty str"),
    "train: show_output as a number": ("train", _train_yaml(show_output=3), r"'show_output' .* a bool\. Got 3"),
    "train: an unknown tracking scheme": ("train", _train_yaml(tracking_uri="foo://bar"),
                                          r"'tracking_uri' parameter 'foo://bar'"),
    "train: automl as a list": ("train", _train_yaml(automl=["task"]), r"needs an 'automl' mapping"),
    "train: unknown AutoMLConfig key": ("train", "experiment_name: x\nautoml: {task: classification, timeout: 3}\n",
                                        r"Unknown AutoMLConfig parameter\(s\) \['timeout'\]"),
    "train: no experiment_name": ("train", "automl: {task: classification}\n", "needs 'experiment_name'"),
    "train: not YAML": ("train", "experiment_name: [x\n", "not valid YAML"),
    "score: no input": ("score", "model: m\n", "needs 'input'"),
    "score: no output": ("score", "model: m\ninput: t\n", "exactly one of 'output'"),
    "score: bad mode": ("score", "model: m\ninput: t\noutput: o\nmode: replace\n", "'mode' parameter"),
    "score: probabilities not a bool": ("score", "model: m\ninput: t\noutput: o\nprobabilities: yes please\n",
                                        "'probabilities' parameter"),
    "score: unknown key": ("score", "model: m\ninput: t\noutput: o\nwhere: x\n", r"Unknown key\(s\) \['where'\]"),
    "forecast: no model": ("forecast", "input: t\noutput: o\n", "needs 'model'"),
    "forecast: probabilities": ("forecast", "model: m\noutput: o\nprobabilities: true\n",
                                r"Unknown key\(s\) \['probabilities'\]"),
    "promote: no model_name": ("promote", "data: t\n", "needs 'model_name'"),
    "promote: negative margin": ("promote", "model_name: m\ndata: t\nmargin: -0.1\n", "'margin' parameter"),
    "promote: challenger true": ("promote", "model_name: m\ndata: t\nchallenger: true\n", "'challenger' parameter"),
}


# ---- the suite ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    error: type
    match: str
    run: Callable[[Any, str], Any]  # (spark or None, tracking URI) -> the call that must raise
    needs_spark: bool


def _submit(settings: dict[str, Any]) -> Callable[[Any, str], Any]:
    return lambda spark, uri: Experiment("bad-input", spark=spark, tracking_uri=uri).submit(AutoMLConfig(**settings))


def _job(command: str, text: str, tmp: str) -> Callable[[Any, str], Any]:
    from spark_automl.cli import COMMANDS

    def run(spark, uri):
        path = os.path.join(tmp, f"{command}.yaml")
        with open(path, "w") as fh:
            fh.write(text.replace("{store}", uri[len("sqlite:///"):]))
        return COMMANDS[command](argparse.Namespace(config=path, timeout_minutes=None))
    return run


def _cases() -> list:
    params = []
    for i, (kwargs, _) in enumerate(CONFIG_CASES):
        given = ", ".join(f"{k}={type(v).__name__ if isinstance(v, pd.DataFrame) else repr(v)}" for k, v in kwargs.items())
        params.append(pytest.param("config", i, id=f"config: {given}"))
    params += [pytest.param("data", name, id=f"data: {name}", marks=pytest.mark.spark) for name in DATA_CASES]
    params += [pytest.param("forecast", name, id=f"forecast: {name}",
                            marks=[pytest.mark.spark, pytest.mark.slow, pytest.mark.extra("forecast")])
               for name in FORECAST_CASES]
    params += [pytest.param("job", name, id=f"job {name}") for name in JOB_CASES]
    return params


def _case(kind: str, key: Any, tmp: str) -> Case:
    import re

    if kind == "config":
        kwargs, fragment = CONFIG_CASES[key]
        return Case(ConfigError, re.escape(fragment), _submit(kwargs), False)
    if kind == "data":
        kwargs, match = DATA_CASES[key]
        return Case(DataError, match, _submit({"task": "classification", "label_column_name": "y", "iterations": 2,
                                               **kwargs}), True)
    if kind == "forecast":
        error, settings, frame, match = FORECAST_CASES[key]
        return Case(error, match, _submit({"task": "forecasting", "label_column_name": "sales", "iterations": 1,
                                           "training_data": frame, **SERIES_SETTINGS, **settings}), True)
    command, text, match = JOB_CASES[key]
    return Case(ConfigError, match, _job(command, text, tmp), False)


def test_the_suite_has_at_least_80_distinct_bad_inputs():
    assert len(_cases()) >= 80 and len({p.id for p in _cases()}) == len(_cases())


@pytest.mark.parametrize("kind, key", _cases())
def test_bad_input_is_refused_with_a_typed_error_naming_it_and_no_run(request, tmp_path, monkeypatch, kind, key):
    monkeypatch.chdir(tmp_path)  # nothing lands in the repository
    case = _case(kind, key, str(tmp_path))
    spark = request.getfixturevalue("spark") if case.needs_spark else None
    uri = f"sqlite:///{tmp_path}/m.db"
    with pytest.raises(case.error, match=case.match):
        case.run(spark, uri)
    if os.path.exists(tmp_path / "m.db"):  # the store may exist; no run was started in it
        client = MlflowClient(uri)
        assert not client.search_runs([e.experiment_id for e in client.search_experiments()])
