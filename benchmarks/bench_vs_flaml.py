#!/usr/bin/env python
"""spark-automl vs FLAML on the shared tabular datasets, same split, same metric, same budget.

    .venv/bin/python benchmarks/bench_vs_flaml.py                      # all seven, 120 s each
    .venv/bin/python benchmarks/bench_vs_flaml.py --budget 20 --datasets penguins,credit_g
    .venv/bin/python benchmarks/bench_vs_flaml.py --output benchmarks/results/vs_flaml.md

Each library gets `--budget` seconds of wall time per dataset, one after the other (never at
the same time), each inside a fresh temporary working directory. Our Spark session is created
before FLAML is imported: importing flaml would otherwise start its own local[*] session.
"""

from __future__ import annotations

import argparse
import gc
import logging
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

COLUMNS = ["dataset", "rows", "metric", "spark-automl", "FLAML", "winner", "sa best single", "sa trials",
           "sa wall s", "sa over budget", "sa after search s", "FLAML wall s", "sa best model", "FLAML best model"]


class InTempDir:
    """chdir into a fresh temporary directory for the block; removed afterwards unless keep."""

    def __init__(self, prefix: str, keep: bool = False):
        self.prefix, self.keep = prefix, keep

    def __enter__(self) -> str:
        self.old = os.getcwd()
        self.path = tempfile.mkdtemp(prefix=self.prefix)
        os.chdir(self.path)
        return self.path

    def __exit__(self, *exc) -> None:
        os.chdir(self.old)
        if not self.keep:
            shutil.rmtree(self.path, ignore_errors=True)


def run_spark_automl(spark, ds: C.Dataset, train, test, budget: float, keep: bool, cores: int = -1) -> dict:
    from spark_automl import AutoMLConfig, Experiment

    out = {"score": float("nan"), "trials": None, "ok_trials": None, "wall": float("nan"), "best": "-", "error": ""}
    with InTempDir(f"bench-sa-{ds.name}-", keep) as tmp:
        t0 = time.time()
        try:
            cfg = AutoMLConfig(
                task=ds.task, training_data=train, label_column_name=ds.target,
                primary_metric="AUC_weighted" if ds.task == "classification" else "r2_score",
                experiment_timeout_minutes=budget / 60.0, enable_early_stopping=False,
                max_concurrent_iterations=1, max_cores_per_iteration=cores, seed=0,
            )
            run = Experiment(f"bench-{ds.name}", spark=spark,
                             tracking_uri=f"sqlite:///{tmp}/mlflow.db").submit(cfg, show_output=False)
            best_child, model = run.get_output()
            out["wall"] = time.time() - t0
            out["score"] = C.score_predictor(ds, train, test, model)
            results = run.results
            out["trials"] = len(results)
            out["ok_trials"] = sum(r.status == "ok" for r in results)
            out["best"] = best_child.model_name
            out["search_seconds"] = run.timings.get("search", 0.0)
            out["failed"] = sorted({f"{r.model}: {r.status}: {(r.error or '').strip().splitlines()[-1:] or ''}"
                                    for r in results if r.status != "ok"})
            out["run_wall_seconds"] = run.wall_seconds
            out["over_budget"] = run.wall_seconds / budget - 1.0
            out["after_search"] = sum(v for k, v in run.timings.items() if k not in ("data_preparation", "search"))
            # the best single model on the same test rows: what the ensembles add
            singles = [r for r in results if r.status == "ok" and r.ensemble is None]
            if singles and best_child.model_name in ("VotingEnsemble", "StackEnsemble"):
                top = min(singles, key=lambda r: (r.loss, r.iteration))
                out["best_single"] = C.score_predictor(ds, train, test, run.get_output(top.iteration)[1])
            else:
                out["best_single"] = out["score"]
        except Exception:  # noqa: BLE001 - record and go on with the next dataset
            out["wall"] = time.time() - t0
            out["error"] = traceback.format_exc()
    return out


def run_flaml(ds: C.Dataset, train, test, budget: float, keep: bool) -> dict:
    out = {"score": float("nan"), "trials": None, "wall": float("nan"), "best": "-", "error": ""}
    with InTempDir(f"bench-flaml-{ds.name}-", keep):
        t0 = time.time()
        try:
            from flaml import AutoML  # lazily: after our Spark session exists

            X_train, y_train = train.drop(columns=[ds.target]), train[ds.target]
            # 'roc_auc_weighted' does not set multi_class and fails on multiclass data with recent
            # scikit-learn; 'roc_auc_ovr_weighted' is exactly the benchmark metric.
            metric = {"binary": "roc_auc", "multiclass": "roc_auc_ovr_weighted", "regression": "r2"}[ds.kind]
            automl = AutoML()
            automl.fit(X_train, y_train, task=ds.task, time_budget=budget, metric=metric, seed=0, verbose=0,
                       n_jobs=2, mlflow_logging=False)
            out["wall"] = time.time() - t0
            out["score"] = C.score_predictor(ds, train, test, automl)
            out["best"] = str(automl.best_estimator)
            # config_history only holds the improving iterations; _iter_per_learner counts every trial.
            per_learner = getattr(automl, "_iter_per_learner", None) or {}
            out["trials"] = sum(per_learner.values()) if per_learner else None
        except Exception:  # noqa: BLE001
            out["wall"] = time.time() - t0
            out["error"] = traceback.format_exc()
    return out


def winner(sa: float, fl: float | None) -> str:
    if fl is None or (isinstance(fl, float) and math.isnan(fl)):
        return "-" if math.isnan(sa) else "spark-automl (FLAML n/a)"
    if math.isnan(sa):
        return "FLAML"
    if sa > fl:
        return "spark-automl"
    if sa < fl:
        return "FLAML"
    return "tie"


def render(rows: list[list], args, header: str, footer: list[str], markdown: bool) -> str:
    if markdown:
        return "\n".join([header, "", C.markdown_table(COLUMNS, rows), "", *footer]) + "\n"
    return "\n".join([header, "", C.text_table(COLUMNS, rows), "", *footer]) + "\n"


def write_output(path: Path, rows: list[list], header: str, footer: list[str], args) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        import pandas as pd

        pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    else:
        path.write_text(render(rows, args, header, footer, markdown=True))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=C.DEFAULT_DATA_DIR,
                        help=f"folder with the shared CSV files (default: {C.DEFAULT_DATA_DIR})")
    parser.add_argument("--datasets", default=",".join(C.DATASETS),
                        help="comma-separated list (default: all seven: %(default)s)")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of wall time per library and dataset")
    parser.add_argument("--skip-flaml", action="store_true", help="run spark-automl only")
    parser.add_argument("--output", type=Path, default=None,
                        help="also write the table here (.csv -> CSV, anything else -> markdown); "
                             "rewritten after every dataset")
    parser.add_argument("--cores", type=int, default=2, help="local Spark cores (default 2)")
    parser.add_argument("--sa-cores", type=int, default=-1,
                        help="spark-automl max_cores_per_iteration (default -1: all cores, like FLAML's n_jobs=2)")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temporary working directories")
    args = parser.parse_args(argv)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    datasets = C.parse_datasets(args.datasets)

    # Our Spark session first: `import flaml` would otherwise create a local[*] one.
    from spark_automl import local_session

    session_dir = tempfile.mkdtemp(prefix="bench-spark-")
    old_cwd = os.getcwd()
    os.chdir(session_dir)  # spark-warehouse / derby.log, if any, land here
    spark = local_session(cores=args.cores, **{"spark.ui.showConsoleProgress": "false"})
    C.quiet_spark(spark)
    os.chdir(old_cwd)

    flaml_version = "skipped"
    if not args.skip_flaml:
        try:
            import flaml

            flaml_version = flaml.__version__
        except ImportError:
            print("flaml is not installed: running spark-automl only (pip install flaml==2.7.0)", file=sys.stderr)
            args.skip_flaml = True
    header = (f"# spark-automl vs FLAML\n\nBudget {args.budget:g} s wall time per library and dataset; "
              f"local[{args.cores}]; spark-automl max_cores_per_iteration={args.sa_cores}, FLAML n_jobs=2; "
              f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; {C.environment_line()}; flaml {flaml_version}. "
              f"Split: 80/20, random_state=0 (stratified for classification). "
              f"Metric on the test part: AUC (binary), one-vs-rest weighted AUC (multiclass), r2 (regression).")

    rows, errors, wins, compared = [], [], 0, 0
    for ds in datasets:
        frame = C.load(ds, args.data_dir)
        train, test = C.split(ds, frame)
        print(f"[{time.strftime('%H:%M:%S')}] {ds.name}: {len(frame)} rows, task {ds.kind}; spark-automl ...",
              flush=True)
        sa = run_spark_automl(spark, ds, train, test, args.budget, args.keep_tmp, args.sa_cores)
        if sa["error"]:
            errors.append(f"spark-automl on {ds.name}:\n{sa['error']}")
            print(f"  spark-automl FAILED:\n{sa['error']}", flush=True)
        else:
            print(f"  spark-automl {ds.metric_name}={sa['score']:.4f} in {sa['wall']:.1f}s, "
                  f"{sa['trials']} trials ({sa['ok_trials']} ok), best {sa['best']}", flush=True)
            for line in sa.get("failed", []):
                print(f"    not ok: {line}", flush=True)
        gc.collect()
        fl = {"score": None, "wall": None, "best": "-", "error": ""}
        if not args.skip_flaml:
            print(f"[{time.strftime('%H:%M:%S')}] {ds.name}: FLAML ...", flush=True)
            fl = run_flaml(ds, train, test, args.budget, args.keep_tmp)
            if fl["error"]:
                errors.append(f"FLAML on {ds.name}:\n{fl['error']}")
                print(f"  FLAML FAILED:\n{fl['error']}", flush=True)
            else:
                print(f"  FLAML {ds.metric_name}={fl['score']:.4f} in {fl['wall']:.1f}s, "
                      f"{fl['trials']} trials, best {fl['best']}", flush=True)
            gc.collect()
        w = winner(sa["score"], fl["score"])
        if fl["score"] is not None and not math.isnan(fl["score"]) and not math.isnan(sa["score"]):
            compared += 1
            wins += sa["score"] >= fl["score"]
        trials = "-" if sa["trials"] is None else (
            str(sa["trials"]) if sa["ok_trials"] == sa["trials"] else f"{sa['trials']} ({sa['ok_trials']} ok)")
        over = sa.get("over_budget")
        rows.append([ds.name, str(len(frame)), ds.metric_name, sa["score"], fl["score"], w,
                     sa.get("best_single", float("nan")), trials, C.fmt(sa.get("run_wall_seconds", sa["wall"]), 1),
                     "-" if over is None else f"{100 * over:+.1f}%", C.fmt(sa.get("after_search", float("nan")), 1),
                     C.fmt(fl["wall"], 1), sa["best"], fl["best"]])
        footer = [f"spark-automl >= FLAML on {wins} of {compared} datasets."] if compared else []
        if args.output:
            write_output(args.output, rows, header, footer, args)

    footer = [f"spark-automl >= FLAML on {wins} of {compared} datasets."] if compared else []
    if errors:
        footer.append(f"{len(errors)} run(s) failed; tracebacks were printed above.")
    print()
    print(render(rows, args, header, footer, markdown=False))
    if args.output:
        write_output(args.output, rows, header, footer, args)
        print(f"written: {args.output}")
    spark.stop()
    shutil.rmtree(session_dir, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
