"""Scale benchmark: 100k, 1M and 10M rows, driver memory, and where the final model was fit.

    python benchmarks/bench_scale.py                       # adult + diamonds at 100k, 1M, 10M
    python benchmarks/bench_scale.py --sizes 100000 --datasets adult

Data: each real dataset is split 80/20 (the protocol of _common.split). The training table is
scaled up from the 80% in Spark (seeded generator, `scaled_table`): every generated row copies a
randomly drawn real row and jitters its numeric features by N(0, JITTER) relative noise; labels
are kept. Tests are on the 20% of REAL rows none of the generated rows came from, so a bigger
table cannot score better by having seen near-copies of the test rows.

Each size runs in its own process (a fresh driver, so peak RSS is that run's), with
spark.driver.memory=2g on local[2]. Printed per run: wall time, driver peak RSS (JVM and
Python, from /proc VmHWM), the learner that made the final model and on how many rows, the
test score of that model and of the same winner refit on the searched sample only (what the
library did before large-data mode), and at the largest size the driver RSS while score_spark
scores every generated row (written to Spark's noop sink: nothing is collected).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (DATASETS, DEFAULT_DATA_DIR, environment_line, load, markdown_table,  # noqa: E402
                                quiet_spark, score_predictor, split, text_table)

JITTER = 0.02
SCALE_DIR = Path(os.environ.get("SPARK_AUTOML_SCALE_DIR", "/tmp/spark-automl-scale"))
MODELS = {"classification": ["LightGBM", "XGBoostClassifier", "LogisticRegression", "RandomForest"],
          "regression": ["LightGBM", "XGBoostRegressor", "ElasticNet", "RandomForest"]}
PRIMARY = {"classification": "AUC_weighted", "regression": "r2_score"}


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def current_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def scaled_table(spark, base, target: str, n_rows: int, seed: int, path: Path) -> str:
    """n_rows generated from the real rows of `base`, written once as parquet (seeded)."""
    import pyspark.sql.functions as F

    if (path / "_SUCCESS").exists():
        return str(path)
    frame = spark.createDataFrame(base.reset_index(drop=True).reset_index().rename(columns={"index": "_base"}))
    numeric = [c for c, t in frame.dtypes if t in ("double", "bigint", "int", "float") and c not in (target, "_base")]
    ids = spark.range(n_rows, numPartitions=max(2, n_rows // 500_000)).select(
        F.floor(F.rand(seed) * len(base)).cast("long").alias("_base"))
    rows = ids.join(F.broadcast(frame), "_base")
    for i, c in enumerate(numeric):
        jittered = F.col(c) * (1.0 + JITTER * F.randn(seed + 1 + i))
        kind = dict(frame.dtypes)[c]
        rows = rows.withColumn(c, F.round(jittered).cast(kind) if kind in ("bigint", "int") else jittered)
    rows.drop("_base").write.mode("overwrite").parquet(str(path))
    return str(path)


def run_one(args) -> dict:
    from spark_automl import AutoMLConfig, Experiment, local_session, score_spark
    from spark_automl.ensemble.build import assemble
    from spark_automl.search.trial import fit_many

    ds = DATASETS[args.one]
    spark = local_session("bench-scale", cores=2, **{"spark.driver.memory": args.driver_memory})
    quiet_spark(spark)
    jvm_pid = int(spark.sparkContext._jvm.ProcessHandle.current().pid())
    train, test = split(ds, load(ds, Path(args.data_dir)))
    t0 = time.time()
    path = scaled_table(spark, train, ds.target, args.rows, args.seed, SCALE_DIR / f"{ds.name}_{args.rows}")
    generate_s = time.time() - t0
    table = spark.read.parquet(path)
    config = AutoMLConfig(task=ds.task, training_data=table, label_column_name=ds.target,
                          primary_metric=PRIMARY[ds.task], experiment_timeout_minutes=args.minutes,
                          allowed_models=MODELS[ds.task], enable_voting_ensemble=False, enable_stack_ensemble=False,
                          max_rows_in_memory=args.max_rows, model_explainability=False, seed=args.seed)
    tracking = f"sqlite:///{SCALE_DIR}/mlflow_{ds.name}_{args.rows}.db"
    t0 = time.time()
    run = Experiment(f"scale_{ds.name}", spark=spark, tracking_uri=tracking).submit(config, show_output=args.verbose)
    wall = time.time() - t0
    best = run.best
    prepared = run._problem.state
    out = {"dataset": ds.name, "rows": args.rows, "generate_s": generate_s, "wall_s": wall,
           "search_rows": prepared.search.n_rows, "trials": len(run.results), "model": best.model,
           "final_fit": run.info["final_learners"].get(best.iteration, ""),
           "test_score": score_predictor(ds, train, test, run.model)}
    if prepared.large:  # the same winner refit on the searched sample only: the model before large-data mode
        from sklearn.pipeline import Pipeline

        fitted = fit_many(prepared.search, [best], None, args.seed, 2)
        sample_model = Pipeline([("featurizer", prepared.featurizer), ("model", assemble(best, fitted, prepared.search))])
        out["sample_only_score"] = score_predictor(ds, train, test, sample_model)
    out["driver_jvm_peak_mb"] = peak_rss_mb(jvm_pid)
    out["driver_python_peak_mb"] = peak_rss_mb()
    if args.score:
        before = current_rss_mb(jvm_pid), current_rss_mb()
        t0 = time.time()
        scored = score_spark(spark, spark.read.parquet(path), run, result_type="double" if ds.task == "regression"
                             else "string")
        scored.write.format("noop").mode("overwrite").save()
        out["score_spark_s"] = time.time() - t0
        out["score_spark_rss_growth_mb"] = {"jvm": current_rss_mb(jvm_pid) - before[0],
                                            "python": current_rss_mb() - before[1]}
        out["driver_python_peak_after_scoring_mb"] = peak_rss_mb()
    spark.stop()
    return out


def scale_arguments(doc: str, minutes: float) -> argparse.ArgumentParser:
    """The options every scale benchmark shares (bench_scale, bench_panel_scale)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=minutes, help="experiment_timeout_minutes of each run")
    parser.add_argument("--max-rows", type=int, default=100_000, help="max_rows_in_memory (the search sample)")
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="", help="write the markdown table here too")
    parser.add_argument("--verbose", action="store_true")
    return parser


def child_args(args) -> list[str]:
    """The shared options, passed on to the one-run child process."""
    return ["--minutes", str(args.minutes), "--max-rows", str(args.max_rows), "--driver-memory", args.driver_memory,
            "--data-dir", args.data_dir, "--seed", str(args.seed)] + (["--verbose"] if args.verbose else [])


def run_child(cmd: list[str], verbose: bool) -> dict:
    """One run in a fresh process (so its peak RSS is its own); its RESULT line, or the error."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if verbose:
        print(proc.stdout[-20000:], proc.stderr[-5000:])
    lines = [ln for ln in (proc.stdout or "").splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print((proc.stderr or "")[-3000:])
        return {"error": f"exit {proc.returncode}"}
    result = json.loads(lines[-1][len("RESULT "):])
    print(json.dumps(result), flush=True)
    return result


def write_tables(args, columns: list[str], rows: list[list], results: list[dict]) -> None:
    print(environment_line())
    print(text_table(columns, rows))
    if args.out:
        Path(args.out).write_text(f"{environment_line()}\n\n{markdown_table(columns, rows)}\n\n"
                                  + json.dumps(results, indent=1) + "\n")


def main() -> None:
    parser = scale_arguments(__doc__, minutes=3.0)
    parser.add_argument("--datasets", default="adult,diamonds")
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--score", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    SCALE_DIR.mkdir(parents=True, exist_ok=True)
    if args.one:
        print("RESULT " + json.dumps(run_one(args)), flush=True)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for name in args.datasets.split(","):
        for n in sizes:
            cmd = [sys.executable, __file__, "--one", name, "--rows", str(n), *child_args(args)]
            cmd += ["--score"] if n == max(sizes) else []
            print(f"== {name} {n:,} rows", flush=True)
            results.append({"dataset": name, "rows": n, **run_child(cmd, args.verbose)})
    columns = ["dataset", "rows", "wall s", "JVM peak MB", "Python peak MB", "search rows", "winner", "final fit",
               "test score", "sample-only score"]
    rows = [[r["dataset"], f"{r['rows']:,}", r.get("wall_s"), r.get("driver_jvm_peak_mb"),
             r.get("driver_python_peak_mb"), r.get("search_rows"), r.get("model", r.get("error", "")),
             r.get("final_fit", ""), r.get("test_score"), r.get("sample_only_score")] for r in results]
    write_tables(args, columns, rows, results)
    for r in results:
        if "score_spark_s" in r:
            print(f"score_spark {r['dataset']} {r['rows']:,} rows: {r['score_spark_s']:.0f}s, driver RSS growth "
                  f"{r['score_spark_rss_growth_mb']}, Python peak after {r['driver_python_peak_after_scoring_mb']:.0f} MB")


if __name__ == "__main__":
    main()
