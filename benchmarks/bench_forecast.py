#!/usr/bin/env python
"""Forecasting: spark-automl against statsforecast's AutoETS and AutoARIMA alone, and the cost
of fanning many series out over Spark.

    .venv/bin/python benchmarks/bench_forecast.py                       # txhousing + oj_sales
    .venv/bin/python benchmarks/bench_forecast.py --budget 60 --datasets txhousing
    .venv/bin/python benchmarks/bench_forecast.py --output benchmarks/results/forecast.md

Protocol (BENCHMARKS.md): the last h points of every series are held out; every system sees the
same history and forecasts the same h steps; MASE (in-sample seasonal naive scale) and sMAPE
are averaged over series. The Spark overhead compares spark_forecast (groupBy + applyInPandas,
local[2]) with statsforecast alone (n_jobs=2) on the same history and model.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402


@dataclass(frozen=True)
class SeriesSet:
    name: str
    file: str
    target: str
    time: str
    ids: tuple[str, ...]
    horizon: int
    season: int
    covariates: tuple[str, ...] = ()


SETS = {s.name: s for s in [
    SeriesSet("txhousing", "txhousing.csv", "sales", "date", ("city",), 12, 12),
    SeriesSet("oj_sales", "oj_sales.csv.gz", "logmove", "week", ("store", "brand"), 12, 52),
]}


def canonical(ds: SeriesSet, frame: pd.DataFrame) -> pd.DataFrame:
    """unique_id / ds / y on a regular grid (gaps filled with NaN), as the library builds it."""
    out = pd.DataFrame({"unique_id": frame[list(ds.ids)].astype(str).agg("|".join, axis=1),
                        "ds": frame[ds.time] if ds.time == "week" else pd.to_datetime(frame[ds.time]),
                        "y": frame[ds.target].astype(float)})
    filled = []
    for uid, g in out.groupby("unique_id", sort=True):
        g = g.set_index("ds").sort_index()
        grid = (range(int(g.index.min()), int(g.index.max()) + 1) if ds.time == "week"
                else pd.date_range(g.index.min(), g.index.max(), freq="MS"))
        g = g.reindex(grid)
        g["unique_id"] = uid
        filled.append(g.rename_axis("ds").reset_index())
    return pd.concat(filled, ignore_index=True)


def holdout(frame: pd.DataFrame, h: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    pos = frame.groupby("unique_id").cumcount(ascending=False)
    return frame[pos >= h].reset_index(drop=True), frame[pos < h].reset_index(drop=True)


def scores(train: pd.DataFrame, test: pd.DataFrame, yhat: pd.DataFrame, season: int) -> tuple[float, float]:
    """(MASE, sMAPE) averaged over series; test rows with a missing actual are skipped."""
    from spark_automl.forecasting.metrics import naive_scales

    merged = test.merge(yhat, on=["unique_id", "ds"], how="left").dropna(subset=["y"])
    scale = naive_scales(train, season)
    err = (merged["y"] - merged["yhat"]).abs()
    per = merged.assign(err=err, smape=200 * err / (merged["y"].abs() + merged["yhat"].abs()).replace(0, np.nan))
    agg = per.groupby("unique_id").agg(mae=("err", "mean"), smape=("smape", "mean"))
    mase = (agg["mae"] / scale.reindex(agg.index)).replace([np.inf, -np.inf], np.nan)
    return float(mase.mean()), float(agg["smape"].mean())


def statsforecast_alone(train: pd.DataFrame, model: str, h: int, season: int, n_jobs: int) -> tuple[pd.DataFrame, float]:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS

    est = {"AutoETS": AutoETS(season_length=season), "AutoARIMA": AutoARIMA(season_length=season)}[model]
    history = train.copy()
    history["y"] = history.groupby("unique_id")["y"].transform(lambda s: s.interpolate().ffill().bfill())
    freq = 1 if pd.api.types.is_integer_dtype(history["ds"]) else "MS"
    t0 = time.time()
    out = StatsForecast(models=[est], freq=freq, n_jobs=n_jobs).forecast(df=history, h=h)
    seconds = time.time() - t0
    out = out.reset_index() if "unique_id" not in out.columns else out
    return out.rename(columns={model: "yhat"})[["unique_id", "ds", "yhat"]], seconds


def run_spark_automl(spark, ds: SeriesSet, raw_train: pd.DataFrame, budget: float) -> tuple[pd.DataFrame, dict]:
    from spark_automl import AutoMLConfig, Experiment

    with tempfile.TemporaryDirectory(prefix=f"bench-fc-{ds.name}-") as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            cfg = AutoMLConfig(task="forecasting", training_data=raw_train, label_column_name=ds.target,
                               time_column_name=ds.time, time_series_id_column_names=list(ds.ids),
                               forecast_horizon=ds.horizon, seasonality=ds.season,
                               experiment_timeout_minutes=budget / 60, seed=0, max_cores_per_iteration=-1,
                               primary_metric="normalized_mean_absolute_error")
            t0 = time.time()
            run = Experiment(f"bench-{ds.name}", spark=spark, tracking_uri=f"sqlite:///{tmp}/mlflow.db").submit(cfg)
            wall = time.time() - t0
            out = run.forecast()
        finally:
            os.chdir(cwd)
    key = out[list(ds.ids)].astype(str).agg("|".join, axis=1)
    when = out[ds.time] if ds.time == "week" else pd.to_datetime(out[ds.time])
    yhat = pd.DataFrame({"unique_id": key, "ds": when.to_numpy(), "yhat": out["prediction"].to_numpy()})
    return yhat, {"wall": wall, "best": run.best.model, "trials": len(run.results)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="txhousing,oj_sales")
    parser.add_argument("--budget", type=float, default=120.0, help="spark-automl seconds per dataset")
    parser.add_argument("--data-dir", type=Path, default=C.DEFAULT_DATA_DIR)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)

    from spark_automl import local_session
    from spark_automl.forecasting.statistical import spark_forecast

    spark = local_session(cores=2, **{"spark.ui.showConsoleProgress": "false"})
    C.quiet_spark(spark)
    accuracy, overhead = [], []
    for name in args.datasets.split(","):
        ds = SETS[name]
        raw = pd.read_csv(args.data_dir / ds.file)
        frame = canonical(ds, raw)
        train, test = holdout(frame, ds.horizon)
        # the raw rows of the training part, for the library (which fills the gaps itself)
        key = raw[list(ds.ids)].astype(str).agg("|".join, axis=1)
        cut = train.groupby("unique_id")["ds"].max()
        when = raw[ds.time] if ds.time == "week" else pd.to_datetime(raw[ds.time])
        # univariate, like the statsforecast baselines: ids, time and target only
        raw_train = raw.loc[when.to_numpy() <= key.map(cut).to_numpy(), [*ds.ids, ds.time, ds.target]]
        print(f"[{time.strftime('%H:%M:%S')}] {name}: {frame['unique_id'].nunique()} series, h={ds.horizon}", flush=True)
        alone_seconds = {}
        for model in ("AutoETS", "AutoARIMA"):
            yhat, seconds = statsforecast_alone(train, model, ds.horizon, ds.season, n_jobs=2)
            alone_seconds[model] = seconds
            mase, smape = scores(train, test, yhat, ds.season)
            accuracy.append([name, f"statsforecast {model}", mase, smape, C.fmt(seconds, 1), "-"])
            print(f"  statsforecast {model}: MASE {mase:.3f} sMAPE {smape:.2f} in {seconds:.1f}s", flush=True)
        yhat, info = run_spark_automl(spark, ds, raw_train, args.budget)
        mase, smape = scores(train, test, yhat, ds.season)
        accuracy.append([name, "spark-automl", mase, smape, C.fmt(info["wall"], 1), info["best"]])
        print(f"  spark-automl: MASE {mase:.3f} sMAPE {smape:.2f} in {info['wall']:.1f}s ({info['best']})", flush=True)
        # many-series fan-out: the same model and history through Spark vs statsforecast alone
        alone = alone_seconds["AutoETS"]
        t0 = time.time()
        spark_forecast(spark, train, "ExponentialSmoothing", ds.horizon, 1 if ds.time == "week" else "MS",
                       ds.season, levels=(80,))
        through_spark = time.time() - t0
        overhead.append([name, frame["unique_id"].nunique(), C.fmt(alone, 1), C.fmt(through_spark, 1),
                         f"{100 * (through_spark / alone - 1):+.1f}%"])
        print(f"  AutoETS alone {alone:.1f}s, through Spark {through_spark:.1f}s", flush=True)

    header = (f"# Forecasting: spark-automl vs statsforecast\n\nspark-automl budget {args.budget:g} s per dataset; "
              f"last h points of every series held out; MASE and sMAPE averaged over series; {C.environment_line()}.")
    acc_table = C.markdown_table(["dataset", "system", "MASE", "sMAPE", "wall s", "best model"], accuracy)
    ovh_table = C.markdown_table(["dataset", "series", "statsforecast alone s (n_jobs=2)",
                                  "through Spark s (local[2])", "Spark overhead"], overhead)
    text = "\n".join([header, "", acc_table, "", "## Many series through Spark (AutoETS)", "", ovh_table]) + "\n"
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
