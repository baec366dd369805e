#!/usr/bin/env python
"""spark-automl vs FLAML, AutoGluon and plain LightGBM on the shared tabular datasets: same split,
same metric, same budget.

    .venv/bin/python benchmarks/bench_vs_flaml.py                      # all seven, 120 s each
    .venv/bin/python benchmarks/bench_vs_flaml.py --budget 20 --datasets penguins,credit_g
    .venv/bin/python benchmarks/bench_vs_flaml.py --output benchmarks/results/vs_flaml.md
    .venv/bin/python benchmarks/bench_vs_flaml.py --autogluon .venv-ag/bin/python   # + AutoGluon

AutoGluon runs in its own virtual environment (benchmarks/_autogluon_runner.py says how to make
it), with the medium_quality and best_quality presets. "LightGBM defaults" is LightGBM with its
default parameters on the raw columns (text columns as pandas categories): the floor any AutoML
must clear. "sa first trial s" is the time from submit() to the first finished trial.

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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

PEERS = ["FLAML", "LightGBM defaults", "AG medium", "AG best"]
COLUMNS = ["dataset", "rows", "metric", "spark-automl", *PEERS, "best peer", "margin", "margin 95% CI",
           "sa best single", "sa trials",
           "sa first trial s", "sa wall s", "sa over budget", "sa after search s", "FLAML wall s", "AG medium wall s",
           "AG best wall s", "sa best model", "FLAML best model", "AG best model"]


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


def run_spark_automl(spark, ds: C.Dataset, train, test, budget: float, keep: bool, cores: int = -1,
                     also: tuple[str, ...] = ()) -> dict:
    """also: opt-in models (CatBoost) searched beside the default candidates."""
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
                allowed_models=[*AutoMLConfig(task=ds.task).candidate_models(), *also] if also else None,
            )
            run = Experiment(f"bench-{ds.name}", spark=spark,
                             tracking_uri=f"sqlite:///{tmp}/mlflow.db").submit(cfg, show_output=False)
            best_child, model = run.get_output()
            out["wall"] = time.time() - t0
            out["output"], out["score"] = C.predict_and_score(ds, train, test, model)
            results = run.results
            out["trials"] = len(results)
            out["ok_trials"] = sum(r.status == "ok" for r in results)
            out["best"] = best_child.model_name
            out["search_seconds"] = run.timings.get("search", 0.0)
            out["failed"] = sorted({f"{r.model}: {r.status}: {(r.error or '').strip().splitlines()[-1:] or ''}"
                                    for r in results if r.status != "ok"})
            out["run_wall_seconds"] = run.wall_seconds
            out["first_trial"] = run.first_trial_seconds
            out["over_budget"] = run.wall_seconds / budget - 1.0
            out["after_search"] = sum(v for k, v in run.timings.items() if k not in ("data_preparation", "search"))
            out["timings"] = {k: round(v, 1) for k, v in run.timings.items()}  # where an overrun went
            out["expected"] = {k: round(v, 1) for k, v in run.expected_timings.items()}  # what the reserve priced
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
            out["output"], out["score"] = C.predict_and_score(ds, train, test, automl)
            out["best"] = str(automl.best_estimator)
            # config_history only holds the improving iterations; _iter_per_learner counts every trial.
            per_learner = getattr(automl, "_iter_per_learner", None) or {}
            out["trials"] = sum(per_learner.values()) if per_learner else None
        except Exception:  # noqa: BLE001
            out["wall"] = time.time() - t0
            out["error"] = traceback.format_exc()
    return out


def run_lightgbm_defaults(ds: C.Dataset, train, test) -> dict:
    """LightGBM with its default parameters: text columns become pandas categories (the test part
    keeps the training categories), nothing else is done to the data."""
    import lightgbm as lgb
    import pandas as pd

    t0 = time.time()
    X_train, X_test = train.drop(columns=[ds.target]), test.drop(columns=[ds.target])
    for name in X_train.columns:
        if not pd.api.types.is_numeric_dtype(X_train[name]):
            categories = pd.Categorical(X_train[name].astype("string")).categories
            X_train[name] = pd.Categorical(X_train[name].astype("string"), categories=categories)
            X_test[name] = pd.Categorical(X_test[name].astype("string"), categories=categories)
    model = (lgb.LGBMClassifier if ds.task == "classification" else lgb.LGBMRegressor)(verbose=-1, random_state=0)
    model.fit(X_train, train[ds.target])

    class Scored:
        classes_ = getattr(model, "classes_", None)

        def predict_proba(self, X):
            return model.predict_proba(X_test)

        def predict(self, X):
            return model.predict(X_test)

    output, score = C.predict_and_score(ds, train, test, Scored())
    return {"score": score, "output": output, "wall": time.time() - t0, "best": "lgbm", "error": ""}


def run_autogluon(python: str, ds: C.Dataset, budget: float, preset: str, data_dir: Path, split_seed: int = 0) -> dict:
    """One AutoGluon fit in its own interpreter (its own venv), one JSON line back."""
    import json
    import subprocess

    out = Path(tempfile.mkstemp(prefix=f"bench-ag-{ds.name}-", suffix=".json")[1])
    predictions = out.with_suffix(".npy")  # the runner saves its test_output there
    runner = Path(__file__).resolve().parent / "_autogluon_runner.py"
    t0 = time.time()
    try:
        done = subprocess.run([python, str(runner), ds.name, str(budget), preset, str(data_dir), str(out),
                               str(split_seed)],
                              capture_output=True, text=True, timeout=budget * 3 + 120)
        if done.returncode != 0 or not out.read_text():
            return {"score": float("nan"), "wall": time.time() - t0, "best": "-",
                    "error": f"AutoGluon {preset} exited {done.returncode}: {done.stderr[-2000:]}"}
        result = json.loads(out.read_text())
        if predictions.exists():
            result["output"] = np.load(predictions)
        return result
    finally:
        out.unlink(missing_ok=True)
        predictions.unlink(missing_ok=True)


def summary(wins: int, compared: int, behind_beyond_noise: int) -> list[str]:
    """The footer's verdict; 'beyond noise' = the whole 95% interval of the margin below 0."""
    if not compared:
        return []
    return [f"spark-automl >= the best peer on {wins} of {compared} datasets; behind it beyond the test part's "
            f"noise (95% paired bootstrap interval of the margin below 0) on {behind_beyond_noise}."]


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
                        help="comma-separated list (default: all seven: %(default)s); also "
                             f"{', '.join(C.UNTUNED)}: data nothing was tuned on")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds of wall time per library and dataset")
    parser.add_argument("--skip-flaml", action="store_true", help="run spark-automl only")
    parser.add_argument("--autogluon", default=None, metavar="PYTHON",
                        help="the Python of AutoGluon's own venv (e.g. .venv-ag/bin/python); AutoGluon is skipped "
                             "without it")
    parser.add_argument("--output", type=Path, default=None,
                        help="also write the table here (.csv -> CSV, anything else -> markdown); "
                             "rewritten after every dataset")
    parser.add_argument("--cores", type=int, default=2, help="local Spark cores (default 2)")
    parser.add_argument("--sa-cores", type=int, default=-1,
                        help="spark-automl max_cores_per_iteration (default -1: all cores, like FLAML's n_jobs=2)")
    parser.add_argument("--split-seed", type=int, default=0,
                        help="random_state of the 80/20 split (default 0, the protocol's; others check a gap "
                             "against the noise of one test part)")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temporary working directories")
    parser.add_argument("--also-models", default="",
                        help="comma-separated opt-in models searched beside the default ones (e.g. CatBoost)")
    args = parser.parse_args(argv)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    datasets = C.parse_datasets(args.datasets)

    # Our Spark session first: `import flaml` would otherwise create a local[*] one.
    t_import = time.time()
    from spark_automl import local_session

    import_seconds = time.time() - t_import
    session_dir = tempfile.mkdtemp(prefix="bench-spark-")
    old_cwd = os.getcwd()
    os.chdir(session_dir)  # spark-warehouse / derby.log, if any, land here
    t_jvm = time.time()
    spark = local_session(cores=args.cores, **{"spark.ui.showConsoleProgress": "false"})
    jvm_seconds = time.time() - t_jvm
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
              f"local[{args.cores}]; spark-automl max_cores_per_iteration={args.sa_cores}"
              f"{', also searching ' + args.also_models if args.also_models else ''}, FLAML n_jobs=2; "
              f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}; {C.environment_line()}; flaml {flaml_version}. "
              f"Split: 80/20, random_state={args.split_seed} (stratified for classification). "
              f"Metric on the test part: AUC (binary), one-vs-rest weighted AUC (multiclass), r2 (regression). "
              f"Paid once per process, before any dataset: import spark_automl {import_seconds:.1f} s, "
              f"Spark session (JVM) start {jvm_seconds:.1f} s; 'sa first trial s' is measured on that warm session.")

    rows, errors, wins, compared, behind_beyond_noise = [], [], 0, 0, 0
    for ds in datasets:
        frame = C.load(ds, args.data_dir)
        train, test = C.split(ds, frame, args.split_seed)
        print(f"[{time.strftime('%H:%M:%S')}] {ds.name}: {len(frame)} rows, task {ds.kind}; spark-automl ...",
              flush=True)
        sa = run_spark_automl(spark, ds, train, test, args.budget, args.keep_tmp, args.sa_cores,
                              tuple(m for m in args.also_models.split(",") if m))
        if sa["error"]:
            errors.append(f"spark-automl on {ds.name}:\n{sa['error']}")
            print(f"  spark-automl FAILED:\n{sa['error']}", flush=True)
        else:
            print(f"  spark-automl {ds.metric_name}={sa['score']:.4f} in {sa['wall']:.1f}s, "
                  f"{sa['trials']} trials ({sa['ok_trials']} ok), best {sa['best']}", flush=True)
            for line in sa.get("failed", []):
                print(f"    not ok: {line}", flush=True)
            print(f"    stages (s): {sa.get('timings', {})}; priced: {sa.get('expected', {})}", flush=True)
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
        peers = {"FLAML": fl}
        try:
            peers["LightGBM defaults"] = run_lightgbm_defaults(ds, train, test)
        except Exception:  # noqa: BLE001
            peers["LightGBM defaults"] = {"score": float("nan"), "wall": float("nan"), "best": "-",
                                          "error": traceback.format_exc()}
        for preset, column in (("medium_quality", "AG medium"), ("best_quality", "AG best")):
            if args.autogluon:
                print(f"[{time.strftime('%H:%M:%S')}] {ds.name}: AutoGluon {preset} ...", flush=True)
                peers[column] = run_autogluon(args.autogluon, ds, args.budget, preset, args.data_dir, args.split_seed)
                print(f"  AutoGluon {preset} {ds.metric_name}={peers[column]['score']:.4f} in "
                      f"{peers[column]['wall']:.1f}s, best {peers[column]['best']}", flush=True)
        for name, peer in peers.items():
            if peer.get("error"):
                errors.append(f"{name} on {ds.name}:\n{peer['error']}")
        scores = {name: peers.get(name, {}).get("score") for name in PEERS}
        known = {k: v for k, v in scores.items() if v is not None and not math.isnan(v)}
        best_peer = max(known, key=known.get) if known else None
        margin = sa["score"] - known[best_peer] if best_peer and not math.isnan(sa["score"]) else float("nan")
        interval = "-"
        if best_peer and not math.isnan(margin):
            compared += 1
            wins += margin >= 0
            theirs = peers[best_peer].get("output")
            if theirs is not None:
                low, high = C.margin_interval(ds, train, test, sa["output"], theirs)
                interval = f"[{low:+.4f}, {high:+.4f}]"
                behind_beyond_noise += high < 0
        trials = "-" if sa["trials"] is None else (
            str(sa["trials"]) if sa["ok_trials"] == sa["trials"] else f"{sa['trials']} ({sa['ok_trials']} ok)")
        over = sa.get("over_budget")
        rows.append([ds.name, str(len(frame)), ds.metric_name, sa["score"], *[scores[n] for n in PEERS],
                     best_peer or "-", "-" if math.isnan(margin) else f"{margin:+.4f}", interval,
                     sa.get("best_single", float("nan")), trials, C.fmt(sa.get("first_trial"), 1),
                     C.fmt(sa.get("run_wall_seconds", sa["wall"]), 1),
                     "-" if over is None else f"{100 * over:+.1f}%", C.fmt(sa.get("after_search", float("nan")), 1),
                     C.fmt(fl["wall"], 1), C.fmt(peers.get("AG medium", {}).get("wall"), 1),
                     C.fmt(peers.get("AG best", {}).get("wall"), 1), sa["best"], fl["best"],
                     peers.get("AG best", {}).get("best", "-")])
        footer = summary(wins, compared, behind_beyond_noise)
        if args.output:
            write_output(args.output, rows, header, footer, args)

    footer = summary(wins, compared, behind_beyond_noise)
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
