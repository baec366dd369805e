"""Bad forecasting input is refused through submit() before any trial: each case asserts the typed
error, that the message names the column or parameter, and that no MLflow run was started."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from spark_automl import AutoMLConfig, Experiment
from spark_automl.errors import ConfigError, DataError

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.extra("forecast")]  # slow: the 4.3 lane only (CI time)

N = 60
SERIES = pd.DataFrame({
    "day": list(pd.date_range("2024-01-01", periods=N, freq="D")) * 2,
    "store": ["a"] * N + ["b"] * N,
    "price": np.linspace(1.0, 2.0, 2 * N),
    "sales": np.sin(np.arange(2 * N) / 3.0) * 10 + 50,
})


def _with(column: str, values, frame: pd.DataFrame = SERIES) -> pd.DataFrame:
    out = frame.copy()
    out[column] = values
    return out


def _one(index: int, value, column: str) -> list:
    values = list(SERIES[column])
    values[index] = value
    return values


GOOD = {"time_column_name": "day", "time_series_id_column_names": ["store"], "forecast_horizon": 5}

CASES = {
    "time column missing": (DataError, {"time_column_name": "date"}, SERIES, "time_column_name 'date'"),
    "series id column missing": (DataError, {"time_series_id_column_names": ["shop"]}, SERIES, r"\['shop'\]"),
    "label column missing": (DataError, {}, SERIES.drop(columns=["sales"]), "label_column_name 'sales'"),
    "unparseable time values": (DataError, {}, _with("day", SERIES["day"].astype(str).where(SERIES.index != 3, "someday")),
                                r"'day' has 1 value\(s\) that do not parse.*someday"),
    "time column mixing types": (DataError, {}, _with("day", _one(3, "someday", "day")),
                                 r"Column 'day' of 'training_data' mixes value types \(Timestamp, str\)"),
    "text in the target": (DataError, {}, _with("sales", _one(4, "n/a", "sales")), "Target column 'sales'"),
    "infinite target": (DataError, {}, _with("sales", _one(7, np.inf, "sales")),
                        r"Target column 'sales' has 1 value\(s\) that are not finite"),
    "missing series id": (DataError, {}, _with("store", _one(2, None, "store")), r"\{'store': 1\}"),
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
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_forecasting_input_is_refused_before_any_trial(spark, tmp_path, name):
    error, settings, frame, match = CASES[name]
    kwargs = {"task": "forecasting", "label_column_name": "sales", "iterations": 1, "training_data": frame,
              **GOOD, **settings}
    uri = f"sqlite:///{tmp_path}/m.db"
    with pytest.raises(error, match=match):
        Experiment("bad-forecast", spark=spark, tracking_uri=uri).submit(AutoMLConfig(**kwargs))
    if os.path.exists(tmp_path / "m.db"):  # the store may exist; no run was started in it
        client = MlflowClient(uri)
        assert not client.search_runs([e.experiment_id for e in client.search_experiments()])
