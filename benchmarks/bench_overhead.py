#!/usr/bin/env python
"""spark-automl orchestration overhead per trial and concurrency speedup, per backend.

    .venv/bin/python benchmarks/bench_overhead.py                       # credit_g, 30 trials
    .venv/bin/python benchmarks/bench_overhead.py --output benchmarks/results/overhead.md

Every run is a fixed number of trials (`--iterations`, no time limit that could bind, no early
stopping) of cheap models, with MLflow logging on (it always is), max_cores_per_iteration=1.
For each backend in `--backends` and each concurrency in (1, 2) it reports:

  search overhead / trial = (search wall x concurrency - sum of trial durations) / trials
      what the search loop costs beyond the trials themselves: proposing candidates (TPE),
      dispatching them (threads or Spark jobs), collecting results, MLflow logging of each trial.
  total overhead / trial  = (submit() wall - search wall) / trials + search overhead / trial
      also charges data preparation, refit of the best model and model logging to the trials;
      at concurrency 1 this is (run.wall_seconds - sum of trial durations) / trials.
  throughput              = trials / search wall (trials/s); speedup = throughput at 2 / at 1.

A short warm-up experiment per backend (not reported) runs first at the highest concurrency, so
JVM/Python-worker start-up and first imports land on no measured run.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

TARGET_OVERHEAD = 0.25  # s/trial
TARGET_SPEEDUP = 1.6
COLUMNS = ["backend", "concurrency", "trials", "ok", "mean trial s", "search wall s", "submit wall s",
           "search overhead s/trial", "total overhead s/trial", "trials/s"]


def run_once(spark, ds: C.Dataset, frame, backend: str, concurrency: int, iterations: int, models: list[str],
             name: str) -> dict:
    from spark_automl import AutoMLConfig, Experiment

    old = os.getcwd()
    tmp = tempfile.mkdtemp(prefix=f"bench-overhead-{backend}-{concurrency}-")
    os.chdir(tmp)
    try:
        cfg = AutoMLConfig(
            task=ds.task, training_data=frame, label_column_name=ds.target,
            primary_metric="AUC_weighted" if ds.task == "classification" else "r2_score",
            iterations=iterations, experiment_timeout_minutes=600, enable_early_stopping=False,
            allowed_models=models, max_concurrent_iterations=concurrency, max_cores_per_iteration=1,
            backend=backend, seed=0,
        )
        t0 = time.time()
        run = Experiment(name, spark=spark, tracking_uri=f"sqlite:///{tmp}/mlflow.db").submit(cfg, show_output=False)
        outside = time.time() - t0
    finally:
        os.chdir(old)
        shutil.rmtree(tmp, ignore_errors=True)
    results = run.results
    n = len(results)
    busy = sum(r.duration for r in results)
    search = run.timings.get("search", 0.0)
    wall = run.wall_seconds
    search_overhead = (search * concurrency - busy) / n
    return {
        "backend": run.backend, "concurrency": concurrency, "trials": n,
        "ok": sum(r.status == "ok" for r in results), "mean_trial": busy / n, "search": search, "wall": wall,
        "outside": outside, "search_overhead": search_overhead,
        "total_overhead": (wall - search) / n + search_overhead, "throughput": n / search,
        "models": sorted({r.model for r in results}),
        "candidates": tuple(sorted((r.iteration, r.model, repr(sorted(r.params.items()))) for r in results)),
    }


def median_of(runs: list[dict]) -> dict:
    out = dict(runs[0])
    for key in ("trials", "ok", "mean_trial", "search", "wall", "outside", "search_overhead", "total_overhead",
                "throughput"):
        out[key] = statistics.median(r[key] for r in runs)
    out["repeats"] = len(runs)
    return out


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=C.DEFAULT_DATA_DIR)
    parser.add_argument("--dataset", default="credit_g", choices=list(C.DATASETS))
    parser.add_argument("--iterations", type=int, default=24,
                        help="trials per experiment (default 24: with all models this is the portfolio plus "
                             "hyperopt's seeded random start-up, so every concurrency evaluates the SAME candidates)")
    parser.add_argument("--backends", default="local,pandas_udf", help="comma list (default: local,pandas_udf)")
    parser.add_argument("--concurrency", default="1,2", help="comma list of max_concurrent_iterations (default 1,2)")
    parser.add_argument("--models", default="all",
                        help="allowed_models as a comma list, or 'all' (default) for every model of the task")
    parser.add_argument("--repeats", type=int, default=1, help="repeat each setting and report medians")
    parser.add_argument("--cores", type=int, default=2, help="local Spark cores (default 2)")
    parser.add_argument("--output", type=Path, default=None, help="also write the report (markdown) here")
    args = parser.parse_args(argv)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    ds = C.DATASETS[args.dataset]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    models = None if args.models == "all" else [m.strip() for m in args.models.split(",") if m.strip()]

    from spark_automl import local_session

    session_dir = tempfile.mkdtemp(prefix="bench-spark-")
    old_cwd = os.getcwd()
    os.chdir(session_dir)
    spark = local_session(cores=args.cores, **{"spark.ui.showConsoleProgress": "false"})
    C.quiet_spark(spark)
    os.chdir(old_cwd)
    frame = C.load(ds, args.data_dir)

    measured, errors = [], []
    for backend in backends:
        print(f"[{time.strftime('%H:%M:%S')}] warm-up: {backend}", flush=True)
        try:
            # At the highest concurrency, so every Python worker that a measured run will use is
            # already started (a cold worker imports LightGBM/XGBoost/sklearn: ~3 s, paid once per
            # executor in a long-lived cluster, not per trial).
            top = max(levels)
            run_once(spark, ds, frame, backend, top, 2 * top * 4, models, f"overhead-warmup-{backend}")
        except Exception:  # noqa: BLE001
            errors.append(f"warm-up {backend}:\n{traceback.format_exc()}")
            print(errors[-1], flush=True)
        for concurrency in levels:
            runs = []
            for rep in range(args.repeats):
                print(f"[{time.strftime('%H:%M:%S')}] {backend}, concurrency {concurrency}, repeat {rep + 1}: "
                      f"{args.iterations} trials ...", flush=True)
                try:
                    r = run_once(spark, ds, frame, backend, concurrency, args.iterations, models,
                                 f"overhead-{backend}-{concurrency}")
                except Exception:  # noqa: BLE001
                    errors.append(f"{backend} concurrency {concurrency}:\n{traceback.format_exc()}")
                    print(errors[-1], flush=True)
                    continue
                print(f"  {r['trials']} trials ({r['ok']} ok) in {r['search']:.1f}s search / {r['wall']:.1f}s "
                      f"submit; mean trial {r['mean_trial']:.3f}s; overhead {r['search_overhead']:.3f} s/trial "
                      f"(search), {r['total_overhead']:.3f} s/trial (total); {r['throughput']:.2f} trials/s",
                      flush=True)
                runs.append(r)
            if runs:
                measured.append(median_of(runs))

    rows = [[m["backend"], str(m["concurrency"]), C.fmt(m["trials"], 0), C.fmt(m["ok"], 0),
             C.fmt(m["mean_trial"], 3), C.fmt(m["search"], 1), C.fmt(m["wall"], 1),
             C.fmt(m["search_overhead"], 3), C.fmt(m["total_overhead"], 3), C.fmt(m["throughput"], 3)]
            for m in measured]
    summary = []
    for backend in backends:
        by_c = {m["concurrency"]: m for m in measured if m["backend"] == backend}
        if 1 in by_c:
            o = by_c[1]["search_overhead"]
            summary.append(f"- {backend}: orchestration overhead {o:.3f} s/trial at concurrency 1 "
                           f"(target < {TARGET_OVERHEAD} s/trial: {verdict(o < TARGET_OVERHEAD)}); "
                           f"including data preparation, refit and model logging {by_c[1]['total_overhead']:.3f} "
                           f"s/trial")
        if 1 in by_c and 2 in by_c:
            s = by_c[2]["throughput"] / by_c[1]["throughput"]
            e2e = (by_c[2]["trials"] / by_c[2]["wall"]) / (by_c[1]["trials"] / by_c[1]["wall"])
            same = sum(a == b for a, b in zip(by_c[1]["candidates"], by_c[2]["candidates"]))
            summary.append(f"- {backend}: speedup concurrency 2 vs 1 = {s:.2f}x in trials/s of the search loop "
                           f"(target >= {TARGET_SPEEDUP}x: {verdict(s >= TARGET_SPEEDUP)}); {e2e:.2f}x end to end "
                           f"(submit wall); mean trial {by_c[1]['mean_trial']:.3f}s at 1 vs "
                           f"{by_c[2]['mean_trial']:.3f}s at 2; identical candidates at both: {same}/{len(by_c[1]['candidates'])}")
    header = (f"# spark-automl overhead and concurrency\n\nDataset {ds.name} ({len(frame)} rows), "
              f"{args.iterations} trials per run, allowed_models={models}, enable_early_stopping=False, "
              f"experiment_timeout_minutes=600, max_cores_per_iteration=1, MLflow logging on (sqlite), "
              f"local[{args.cores}]; {args.repeats} repeat(s), medians; {C.environment_line()}.")
    formulas = ["Search overhead/trial = (search wall x concurrency - sum trial durations) / trials. "
                "Total overhead/trial = (submit wall - search wall) / trials + search overhead/trial "
                "(= (run.wall_seconds - sum durations) / trials at concurrency 1). trials/s = trials / search wall."]
    text_md = "\n".join([header, "", C.markdown_table(COLUMNS, rows), "", *formulas, "", *summary]) + "\n"
    if errors:
        text_md += f"\n{len(errors)} run(s) failed:\n\n" + "\n".join(f"```\n{e}\n```" for e in errors) + "\n"
    print()
    print("\n".join([header, "", C.text_table(COLUMNS, rows), "", *formulas, "", *summary]))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text_md)
        print(f"written: {args.output}")
    spark.stop()
    shutil.rmtree(session_dir, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
