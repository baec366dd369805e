"""Large-panel forecasting benchmark: a panel past the driver's budget, never collected.

    python benchmarks/bench_panel_scale.py                       # 1M and 5M points
    python benchmarks/bench_panel_scale.py --sizes 1000000

Data: the real oj_sales panel (83 stores x 11 brands, weekly, ../shared/datasets) copied k times in Spark
(seeded generator, `scaled_panel`): copy c of a series keeps its weeks and adds N(0, JITTER) noise to the
log sales. Each series' last HORIZON weeks are held out (the weeks it has among them). Everything is a Parquet table; the driver never
holds the panel.

Each size runs in its own process (a fresh driver, so peak RSS is that run's), spark.driver.memory=2g on
local[2], max_rows_in_memory=100k: the search samples whole series, every series is stored by Spark tasks,
and the final model forecasts every series. Printed per run: wall time of submit(), driver peak RSS (JVM
and Python, /proc VmHWM), series searched / in the model, forecast_spark time over every series (written
to a Parquet table, joined to the held-out weeks in Spark), and the held-out MAE and sMAPE of the model
against the naive forecast (last training value), both computed by Spark aggregates.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import quiet_spark  # noqa: E402
from benchmarks.bench_scale import SCALE_DIR, child_args, peak_rss_mb, run_child, scale_arguments, write_tables  # noqa: E402

HORIZON = 4
JITTER = 0.1
IDS = ["store", "brand", "copy"]
MODELS = ["Naive", "SeasonalNaive", "ExponentialSmoothing", "LightGBM"]


def scaled_panel(spark, data_dir: Path, n_points: int, seed: int) -> tuple[str, str, int]:
    """(train path, held-out path, copies): oj_sales copied until about n_points points."""
    import pandas as pd
    import pyspark.sql.functions as F
    from pyspark.sql import Window

    base = pd.read_csv(data_dir / "oj_sales.csv.gz")[["store", "brand", "week", "logmove"]]
    copies = max(1, round(n_points / len(base)))
    root = SCALE_DIR / f"panel_{copies}"
    train, test = root / "train", root / "test"
    if (train / "_SUCCESS").exists() and (test / "_SUCCESS").exists():
        return str(train), str(test), copies
    frame = spark.createDataFrame(base).crossJoin(spark.range(copies).withColumnRenamed("id", "copy"))
    frame = frame.withColumn("logmove", F.col("logmove") + JITTER * F.randn(seed)).repartition(
        max(2, copies // 10), *IDS)
    frame = frame.withColumn("_end", F.max("week").over(Window.partitionBy(*IDS)))
    held_out = F.col("week") > F.col("_end") - HORIZON  # the last HORIZON weeks of each series (some missing)
    frame.where(~held_out).drop("_end").write.mode("overwrite").parquet(str(train))
    frame.where(held_out).drop("_end").write.mode("overwrite").parquet(str(test))
    return str(train), str(test), copies


def run_one(args) -> dict:
    import pyspark.sql.functions as F

    from spark_automl import AutoMLConfig, Experiment, forecast_spark, local_session

    spark = local_session("bench-panel", cores=2, **{"spark.driver.memory": args.driver_memory})
    quiet_spark(spark)
    jvm_pid = int(spark.sparkContext._jvm.ProcessHandle.current().pid())
    t0 = time.time()
    train_path, test_path, copies = scaled_panel(spark, Path(args.data_dir), args.points, args.seed)
    generate_s = time.time() - t0
    train = spark.read.parquet(train_path)
    config = AutoMLConfig(task="forecasting", training_data=train, label_column_name="logmove",
                          time_column_name="week", time_series_id_column_names=IDS, forecast_horizon=HORIZON,
                          n_cross_validations=2, allowed_models=MODELS, experiment_timeout_minutes=args.minutes,
                          max_rows_in_memory=args.max_rows, seed=args.seed)
    tracking = f"sqlite:///{SCALE_DIR}/mlflow_panel_{copies}.db"
    t0 = time.time()
    run = Experiment(f"panel_{copies}", spark=spark, tracking_uri=tracking).submit(config, show_output=args.verbose)
    wall = time.time() - t0
    series = run._problem.state.series
    out = {"points": train.count(), "copies": copies, "generate_s": generate_s, "wall_s": wall,
           "series": run.info["n_series"], "searched_series": series.n_searched_series,
           "searched_points": len(series.frame), "trials": len(run.results), "model": run.best.model,
           "driver_jvm_peak_mb_after_submit": peak_rss_mb(jvm_pid),
           "driver_python_peak_mb_after_submit": peak_rss_mb()}

    test = spark.read.parquet(test_path)
    t0 = time.time()
    forecast_path = str(SCALE_DIR / f"panel_{copies}" / "forecast")
    ends = train.groupBy(*IDS).agg(F.max("week").alias("_end"))  # X_future: the next HORIZON weeks of every series
    future = ends.select(*IDS, F.explode(F.sequence(F.col("_end") + 1, F.col("_end") + HORIZON)).alias("week"))
    forecast_spark(spark, future, run).write.mode("overwrite").parquet(forecast_path)
    out["forecast_spark_s"] = time.time() - t0
    forecasts = spark.read.parquet(forecast_path)
    last_value = (train.groupBy(*IDS).agg(F.max_by("logmove", "week").alias("naive")))
    joined = test.join(forecasts, [*IDS, "week"], "inner").join(last_value, IDS, "left")  # weeks within the horizon

    def smape(p):
        return F.avg(200 * F.abs(F.col("logmove") - p) / (F.abs(F.col("logmove")) + F.abs(p)))

    row = joined.agg(F.count("*").alias("scored_rows"),
                     F.avg(F.abs(F.col("logmove") - F.col("prediction"))).alias("mae"),
                     F.avg(F.abs(F.col("logmove") - F.col("naive"))).alias("naive_mae"),
                     smape(F.col("prediction")).alias("smape"), smape(F.col("naive")).alias("naive_smape")).first()
    out.update(row.asDict())
    out["forecast_rows"] = forecasts.count()
    out["driver_jvm_peak_mb"] = peak_rss_mb(jvm_pid)
    out["driver_python_peak_mb"] = peak_rss_mb()
    spark.stop()
    return out


def main() -> None:
    parser = scale_arguments(__doc__, minutes=6.0)
    parser.add_argument("--sizes", default="1000000,5000000", help="panel points (before the held-out weeks)")
    parser.add_argument("--points", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    SCALE_DIR.mkdir(parents=True, exist_ok=True)
    if args.points:
        print("RESULT " + json.dumps(run_one(args)), flush=True)
        return
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        print(f"== {n:,} points", flush=True)
        results.append({"points": n, **run_child([sys.executable, __file__, "--points", str(n), *child_args(args)],
                                                 args.verbose)})
    columns = ["points", "series", "searched series", "wall s", "JVM peak MB", "Python peak MB", "winner",
               "forecast_spark s", "forecast rows", "MAE", "naive MAE", "sMAPE", "naive sMAPE"]
    rows = [[f"{r['points']:,}", r.get("series"), r.get("searched_series"), r.get("wall_s"),
             r.get("driver_jvm_peak_mb"), r.get("driver_python_peak_mb"), r.get("model", r.get("error", "")),
             r.get("forecast_spark_s"), r.get("forecast_rows"), r.get("mae"), r.get("naive_mae"), r.get("smape"),
             r.get("naive_smape")] for r in results]
    write_tables(args, columns, rows, results)


if __name__ == "__main__":
    main()
