#!/usr/bin/env python
"""How often the 80% and 95% forecast intervals hold what happened (issue 11's coverage target:
70-90% for the 80% interval on at least two shared datasets).

    .venv/bin/python benchmarks/bench_interval_coverage.py

The last 12 steps of every series are held out; AutoML (6 trials, default models but Prophet/ARIMA,
3 rolling origins) never sees them; the share of held-out actuals inside each interval is printed per
dataset, with the pinball loss of the 0.1/0.5/0.9 quantiles. Data: the samples in tests/datasets and the
bundled airline series.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DATASETS = {  # name: (file stem, time, label, ids)
    "txhousing": ("txhousing", "date", "sales", ["city"]),
    "airline_passengers": ("airline_passengers", "month", "passengers", []),
    "oj_sales": ("oj_sales", "week", "logmove", ["store", "brand"]),
}
HORIZON = 12


def _frame(stem: str, columns: list[str]) -> pd.DataFrame:
    from spark_automl.datasets import BUNDLED, dataset_path

    path = dataset_path(stem) if stem in BUNDLED else REPO / "tests" / "datasets" / f"{stem}.csv.gz"
    return pd.read_csv(path)[columns].dropna()


def measure(spark, uri: str, name: str) -> dict:
    from spark_automl import AutoMLConfig, Experiment
    from spark_automl.forecasting.metrics import interval_coverage, pinball_loss

    stem, time_col, label, ids = DATASETS[name]
    frame = _frame(stem, [*ids, time_col, label]).sort_values([*ids, time_col]).reset_index(drop=True)
    tail = frame.groupby(ids).tail(HORIZON) if ids else frame.tail(HORIZON)
    train = frame.drop(index=tail.index)
    cfg = AutoMLConfig(task="forecasting", training_data=train, label_column_name=label, time_column_name=time_col,
                       time_series_id_column_names=ids or None, forecast_horizon=HORIZON, iterations=6, seed=0,
                       n_cross_validations=3, model_explainability=False,
                       blocked_models=["Prophet", "AutoArima", "Arimax"])
    started = time.time()
    run = Experiment(f"coverage-{name}", spark=spark, tracking_uri=uri).submit(cfg)
    future = tail.drop(columns=[label])
    as_time = (lambda v: v) if pd.api.types.is_integer_dtype(frame[time_col]) else pd.to_datetime
    predicted = run.forecast(future)
    quantiles = run.forecast_quantiles(future, quantiles=[0.1, 0.5, 0.9])
    keys = [*ids, time_col]
    joined = (tail[[*keys, label]].assign(**{time_col: as_time(tail[time_col])})
              .merge(predicted.assign(**{time_col: as_time(predicted[time_col])}), on=keys)
              .merge(quantiles.assign(**{time_col: as_time(quantiles[time_col])}), on=keys))
    y = joined[label]
    return {"dataset": name, "best model": run.best.model, "points": len(joined),
            "coverage 80%": interval_coverage(y, joined["prediction_lower_80"], joined["prediction_upper_80"]),
            "coverage 95%": interval_coverage(y, joined["prediction_lower_95"], joined["prediction_upper_95"]),
            **{f"pinball {q}": pinball_loss(y, joined[f"{q:g}"], q) for q in (0.1, 0.5, 0.9)},
            "seconds": round(time.time() - started, 1)}


def main() -> int:
    from spark_automl import local_session

    os.chdir(tempfile.mkdtemp(prefix="coverage-"))
    spark = local_session("interval-coverage", cores=2)
    spark.sparkContext.setLogLevel("ERROR")
    rows = [measure(spark, f"sqlite:///{os.getcwd()}/mlflow.db", name) for name in DATASETS]
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    inside = int(((table["coverage 80%"] >= 0.7) & (table["coverage 80%"] <= 0.9)).sum())
    print(f"80% interval within 70-90% on {inside} of {len(table)} datasets (target: at least 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
