#!/usr/bin/env python
"""Forecasting: spark-automl against statsforecast's SeasonalNaive, AutoETS, AutoARIMA and MSTL and
mlforecast's LightGBM, on airline_passengers, txhousing, oj_sales and beijing_pm25, one sitting.

    .venv/bin/pip install --no-deps mlforecast==1.1.0                     # once; a peer, not a dependency
    .venv/bin/python benchmarks/bench_forecast.py                         # all four datasets, ~25 min
    .venv/bin/python benchmarks/bench_forecast.py --budget 60 --datasets airline_passengers
    .venv/bin/python benchmarks/bench_forecast.py --output benchmarks/results/forecast.md

Protocol (BENCHMARKS.md): the last h points of every series are held out; every system sees the
same history and forecasts the same h steps; MASE (in-sample seasonal naive scale) and sMAPE
are averaged over series. Peers are univariate, and so is the spark-automl row the verdict uses; where a
dataset has covariates, a second spark-automl row also gets them (their held-out values as the future
rows: known covariates, an advantage the peers do not have).
beijing_pm25 keeps its last two years (17,520 hours) of history. The target per row: spark-automl's
MASE the best, at no more than the best peer's wall time + 120 s. The Spark overhead compares
spark_forecast (groupBy + applyInPandas, local[2]) with statsforecast alone (n_jobs=2) on the same
history and model.
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
    freq: str | int
    covariates: tuple[str, ...] = ()  # given to spark-automl (known in advance: the test rows hold them)
    last_points: int | None = None  # keep only this much history (the end of the series)
    settings: tuple[tuple[str, object], ...] = ()  # spark-automl forecasting settings beyond the defaults


SETS = {s.name: s for s in [
    SeriesSet("airline_passengers", "airline_passengers.csv", "passengers", "month", (), 12, 12, "MS"),
    SeriesSet("txhousing", "txhousing.csv", "sales", "date", ("city",), 12, 12, "MS"),
    SeriesSet("oj_sales", "oj_sales.csv.gz", "logmove", "week", ("store", "brand"), 12, 52, 1,
              settings=(("time_step_unit", "W"),)),
    SeriesSet("beijing_pm25", "beijing_pm25.csv", "pm25", "timestamp", (), 48, 24, "h",
              covariates=("DEWP", "TEMP", "PRES", "cbwd", "Iws", "Is", "Ir"), last_points=17_520),
]}
INTEGER_TIME = {"week"}


def series_key(ds: SeriesSet, frame: pd.DataFrame) -> pd.Series:
    return frame[list(ds.ids)].astype(str).agg("|".join, axis=1) if ds.ids else pd.Series("all", index=frame.index)


def times(ds: SeriesSet, frame: pd.DataFrame) -> pd.Series:
    return frame[ds.time] if ds.time in INTEGER_TIME else pd.to_datetime(frame[ds.time])


def canonical(ds: SeriesSet, frame: pd.DataFrame) -> pd.DataFrame:
    """unique_id / ds / y on a regular grid (gaps filled with NaN), as the library builds it."""
    out = pd.DataFrame({"unique_id": series_key(ds, frame), "ds": times(ds, frame), "y": frame[ds.target].astype(float)})
    filled = []
    for uid, g in out.groupby("unique_id", sort=True):
        g = g.set_index("ds").sort_index()
        grid = (range(int(g.index.min()), int(g.index.max()) + 1) if ds.time in INTEGER_TIME
                else pd.date_range(g.index.min(), g.index.max(), freq=ds.freq))
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


def _interpolated(train: pd.DataFrame) -> pd.DataFrame:
    history = train.copy()
    history["y"] = history.groupby("unique_id")["y"].transform(lambda s: s.interpolate().ffill().bfill())
    return history


def statsforecast_alone(ds: SeriesSet, train: pd.DataFrame, model: str, n_jobs: int) -> tuple[pd.DataFrame, float]:
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, SeasonalNaive

    m = ds.season
    seasons = [m, 7 * m] if m == 24 else [m]  # hourly: the day and the week
    est = {"SeasonalNaive": lambda: SeasonalNaive(season_length=m), "AutoETS": lambda: AutoETS(season_length=m),
           "AutoARIMA": lambda: AutoARIMA(season_length=m),
           "MSTL": lambda: MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))}[model]()
    history = _interpolated(train)
    t0 = time.time()
    out = StatsForecast(models=[est], freq=ds.freq, n_jobs=n_jobs).forecast(df=history, h=ds.horizon)
    seconds = time.time() - t0
    out = out.reset_index() if "unique_id" not in out.columns else out
    return out.rename(columns={model: "yhat"})[["unique_id", "ds", "yhat"]], seconds


def mlforecast_lightgbm(ds: SeriesSet, train: pd.DataFrame) -> tuple[pd.DataFrame, float] | None:
    """mlforecast's LightGBM (recursive, lags 1..3 and the season, a seasonal rolling mean, per-series
    standardised target), when mlforecast is installed."""
    try:
        from lightgbm import LGBMRegressor
        from mlforecast import MLForecast
        from mlforecast.lag_transforms import RollingMean
        from mlforecast.target_transforms import LocalStandardScaler
    except ImportError:
        return None
    m = ds.season
    lags = sorted({1, 2, 3, m} | ({7 * m} if m == 24 else set()))
    dates = [] if ds.time in INTEGER_TIME else (["hour", "dayofweek"] if m == 24 else ["month"])
    history = _interpolated(train)
    t0 = time.time()
    fcst = MLForecast(models={"lgbm": LGBMRegressor(verbose=-1, random_state=0, n_jobs=2)}, freq=ds.freq,
                      lags=lags, lag_transforms={1: [RollingMean(window_size=m)]}, date_features=dates,
                      target_transforms=[LocalStandardScaler()])
    fcst.fit(history, dropna=True)
    out = fcst.predict(ds.horizon)
    return out.rename(columns={"lgbm": "yhat"})[["unique_id", "ds", "yhat"]], time.time() - t0


def run_spark_automl(spark, ds: SeriesSet, raw_train: pd.DataFrame, future: pd.DataFrame | None,
                     budget: float) -> tuple[pd.DataFrame, dict]:
    from spark_automl import AutoMLConfig, Experiment

    with tempfile.TemporaryDirectory(prefix=f"bench-fc-{ds.name}-") as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            cfg = AutoMLConfig(task="forecasting", training_data=raw_train, label_column_name=ds.target,
                               time_column_name=ds.time, time_series_id_column_names=list(ds.ids) or None,
                               forecast_horizon=ds.horizon, experiment_timeout_minutes=budget / 60, seed=0,
                               max_cores_per_iteration=-1, primary_metric="normalized_mean_absolute_error",
                               **dict(ds.settings))
            t0 = time.time()
            run = Experiment(f"bench-{ds.name}", spark=spark, tracking_uri=f"sqlite:///{tmp}/mlflow.db").submit(cfg)
            wall = time.time() - t0
            out = run.forecast(future)
            season = run.info["season_length"]
        finally:
            os.chdir(cwd)
    yhat = pd.DataFrame({"unique_id": series_key(ds, out).to_numpy(), "ds": times(ds, out).to_numpy(),
                         "yhat": out["prediction"].to_numpy()})
    return yhat, {"wall": wall, "best": run.best.model, "trials": len(run.results), "season": season}


PEERS = ("SeasonalNaive", "AutoETS", "AutoARIMA", "MSTL")


def split_raw(ds: SeriesSet, raw: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame):
    """The raw rows of the training part (the library fills gaps itself) and the future rows it is asked for."""
    key, when = series_key(ds, raw), times(ds, raw)
    cut = train.groupby("unique_id")["ds"].max()
    first = train.groupby("unique_id")["ds"].min()
    inside = (when.to_numpy() >= key.map(first).to_numpy())
    columns = [*ds.ids, ds.time, ds.target, *ds.covariates]
    raw_train = raw.loc[inside & (when.to_numpy() <= key.map(cut).to_numpy()), columns]
    if not ds.covariates:
        return raw_train, None
    after = raw.loc[when.to_numpy() > key.map(cut).to_numpy(), [*ds.ids, ds.time, *ds.covariates]]
    return raw_train, after


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(SETS))
    parser.add_argument("--budget", type=float, default=120.0, help="spark-automl seconds per dataset")
    parser.add_argument("--data-dir", type=Path, default=C.DEFAULT_DATA_DIR)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)

    from spark_automl import local_session
    from spark_automl.forecasting.statistical import spark_forecast

    spark = local_session(cores=2, **{"spark.ui.showConsoleProgress": "false"})
    C.quiet_spark(spark)
    accuracy, verdicts, overhead = [], [], []
    for name in args.datasets.split(","):
        ds = SETS[name]
        raw = pd.read_csv(args.data_dir / ds.file)
        if ds.last_points:
            raw = raw.iloc[-ds.last_points:].reset_index(drop=True)
        frame = canonical(ds, raw)
        train, test = holdout(frame, ds.horizon)
        raw_train, future = split_raw(ds, raw, train, test)
        print(f"[{time.strftime('%H:%M:%S')}] {name}: {frame['unique_id'].nunique()} series, h={ds.horizon}", flush=True)
        peers, alone_seconds = {}, {}
        for model in PEERS:
            yhat, seconds = statsforecast_alone(ds, train, model, n_jobs=2)
            alone_seconds[model] = seconds
            peers[f"statsforecast {model}"] = (*scores(train, test, yhat, ds.season), seconds)
        lgbm = mlforecast_lightgbm(ds, train)
        if lgbm is not None:
            peers["mlforecast LightGBM"] = (*scores(train, test, lgbm[0], ds.season), lgbm[1])
        for system, (mase, smape, seconds) in peers.items():
            accuracy.append([name, system, mase, smape, C.fmt(seconds, 1), "-"])
            print(f"  {system}: MASE {mase:.3f} sMAPE {smape:.2f} in {seconds:.1f}s", flush=True)
        # univariate like the peers (the verdict's row); with its covariates too where the dataset has them
        variants = [("spark-automl", raw_train[[*ds.ids, ds.time, ds.target]], None)]
        if ds.covariates:
            variants.append(("spark-automl (with covariates)", raw_train, future))
        for label, rows, ahead in variants:
            yhat, run_info = run_spark_automl(spark, ds, rows, ahead, args.budget)
            scored = scores(train, test, yhat, ds.season)
            accuracy.append([name, label, *scored, C.fmt(run_info["wall"], 1),
                             f"{run_info['best']} (season {run_info['season']}, {run_info['trials']} trials)"])
            print(f"  {label}: MASE {scored[0]:.3f} sMAPE {scored[1]:.2f} in {run_info['wall']:.1f}s "
                  f"({run_info['best']})", flush=True)
            if ahead is None:
                (mase, smape), info = scored, run_info
        best_peer = min(peers, key=lambda k: peers[k][0])
        margin = peers[best_peer][0] - mase
        in_time = info["wall"] <= peers[best_peer][2] + 120
        verdicts.append([name, best_peer, C.fmt(peers[best_peer][0], 3), C.fmt(mase, 3), f"{margin:+.3f}",
                         "yes" if margin >= 0 and in_time else "no"])
        # many-series fan-out: the same model and history through Spark vs statsforecast alone
        if frame["unique_id"].nunique() > 1:
            alone = alone_seconds["AutoETS"]
            t0 = time.time()
            spark_forecast(spark, train, "ExponentialSmoothing", ds.horizon, ds.freq, ds.season, levels=(80,))
            through_spark = time.time() - t0
            overhead.append([name, frame["unique_id"].nunique(), C.fmt(alone, 1), C.fmt(through_spark, 1),
                             f"{100 * (through_spark / alone - 1):+.1f}%"])
            print(f"  AutoETS alone {alone:.1f}s, through Spark {through_spark:.1f}s", flush=True)

    header = (f"# Forecasting: spark-automl vs statsforecast and mlforecast\n\nspark-automl budget {args.budget:g} s "
              f"per dataset; last h points of every series held out; MASE and sMAPE averaged over series; "
              f"{C.environment_line()}.")
    acc_table = C.markdown_table(["dataset", "system", "MASE", "sMAPE", "wall s", "best model"], accuracy)
    verdict_table = C.markdown_table(["dataset", "best peer", "peer MASE", "spark-automl MASE",
                                      "margin (+ = ahead)", "target met"], verdicts)
    ovh_table = C.markdown_table(["dataset", "series", "statsforecast alone s (n_jobs=2)",
                                  "through Spark s (local[2])", "Spark overhead"], overhead)
    text = "\n".join([header, "", acc_table, "", "## Against the best peer (MASE; wall <= peer + 120 s)", "",
                      verdict_table, "", "## Many series through Spark (AutoETS)", "", ovh_table]) + "\n"
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
