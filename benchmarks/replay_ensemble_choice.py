"""Is the VotingEnsemble's win over the best single model real? Cross-selection replayed on finished runs.

The VotingEnsemble is ranked on the blend its Caruana weights were chosen on, and the best single model on the
best of 30-40 CV scores: both scores are optimistic. Cross-selection deals the validation rows into three parts
(stratified, seeded) and, for each part, chooses on the other two and predicts it: the ensemble's weights, and
the single model, the same way. The two cross-selected scores say which choice generalises inside the
validation rows; the test part says what happened. Nothing here changes how a run chooses.

    .venv/bin/python benchmarks/replay_ensemble_choice.py --datasets credit_g,ames_housing --budget 120
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

PARTS = 3
REPEATS = 3  # seeds of the dealing, averaged


def selection_parts(target, seed: int, parts: int = PARTS) -> list[np.ndarray]:
    """The scored rows (indices into a full-length prediction) dealt at random, class by class for
    classification so every part holds every class."""
    scored = np.arange(len(target.y)) if target.rows is None else np.asarray(target.rows)
    groups = target.actual if target.classes is not None else np.zeros(len(scored))
    rng = np.random.default_rng(seed)
    part_of = np.empty(len(scored), dtype=np.int64)
    offset = 0
    for value in sorted(set(groups.tolist()), key=str):
        members = np.flatnonzero(groups == value)
        rng.shuffle(members)
        part_of[members] = (np.arange(len(members)) + offset) % parts
        offset += len(members)
    return [scored[part_of == k] for k in range(parts)]


def on_rows(target, rows: np.ndarray):
    return dataclasses.replace(target, rows=rows)


def rescored(results, target, metric: str):
    """The trials as if their validation rows were `target`'s only (what caruana ranks and seeds by)."""
    from spark_automl.metrics import to_loss

    out = []
    for r in results:
        loss = target.loss(metric, target.take(r.oof).astype(np.float64))
        out.append(dataclasses.replace(r, loss=loss, score=to_loss(metric, loss)))
    return out


def cross_selected(results, target, metric: str, seed: int, choose) -> float:
    """The pooled loss of predictions made, part by part, by what `choose` picked on the other parts."""
    parts = selection_parts(target, seed)
    out = None
    for k, held in enumerate(parts):
        chosen_on = on_rows(target, np.concatenate([p for j, p in enumerate(parts) if j != k]))
        prediction = choose(rescored(results, chosen_on, metric), chosen_on)
        out = np.array(prediction, dtype=np.float64) if out is None else out
        out[held] = prediction[held]
    return target.loss(metric, target.take(out))


def voting_choice(metric: str, steps: int):
    from spark_automl.ensemble.selection import caruana

    def choose(results, target):
        by_iteration = {r.iteration: r.oof for r in results}
        return caruana(results, target, metric, steps).blend(by_iteration)
    return choose


def single_choice(results, target):
    return min(results, key=lambda r: (r.loss, r.iteration)).oof.astype(np.float64)


def replay(spark, ds: C.Dataset, data_dir: Path, budget: float, split_seed: int) -> list:
    from spark_automl import AutoMLConfig, Experiment
    from spark_automl.ensemble.selection import caruana, library
    from spark_automl.metrics import to_loss

    train, test = C.split(ds, C.load(ds, data_dir), split_seed)
    metric = "AUC_weighted" if ds.task == "classification" else "r2_score"
    folder = tempfile.mkdtemp(prefix=f"replay-{ds.name}-")
    config = AutoMLConfig(task=ds.task, training_data=train, label_column_name=ds.target, primary_metric=metric,
                          experiment_timeout_minutes=budget / 60, enable_early_stopping=False, seed=0,
                          max_concurrent_iterations=1, max_cores_per_iteration=-1)
    run = Experiment(f"replay-{ds.name}", spark=spark, tracking_uri=f"sqlite:///{folder}/mlflow.db").submit(
        config, show_output=False)
    target = run._problem.target
    singles = [r for r in run.results if r.ensemble is None and r.status == "ok" and r.oof is not None
               and np.isfinite(r.loss)]  # all of them: the single choice is not limited to the library
    chosen_from = library(singles)  # what the run's selection sees: the best trials, best first
    top = chosen_from[0]
    steps = config.ensemble_steps
    voting = caruana(chosen_from, target, metric, steps)
    cross_voting = np.mean([cross_selected(chosen_from, target, metric, s, voting_choice(metric, steps))
                            for s in range(REPEATS)])
    cross_single = np.mean([cross_selected(singles, target, metric, s, single_choice)
                            for s in range(REPEATS)])
    single_test = C.score_predictor(ds, train, test, run.get_output(top.iteration)[1])
    voting_run = [r for r in run.results if r.model == "VotingEnsemble" and r.status == "ok"]
    voting_test = (C.score_predictor(ds, train, test, run.get_output(voting_run[0].iteration)[1])
                   if voting_run else float("nan"))
    scores = [to_loss(metric, loss) for loss in (voting.loss, cross_single, cross_voting)]  # loss -> score
    return [ds.name, top.model, C.fmt(top.score), *map(C.fmt, scores),
            "VotingEnsemble" if cross_voting < cross_single else top.model, C.fmt(single_test), C.fmt(voting_test)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=C.DEFAULT_DATA_DIR)
    parser.add_argument("--datasets", default=",".join(C.DATASETS))
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--split-seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    from spark_automl import local_session

    os.chdir(tempfile.mkdtemp(prefix="replay-"))
    spark = local_session(cores=2, **{"spark.ui.showConsoleProgress": "false"})
    C.quiet_spark(spark)
    columns = ["dataset", "best single", "its CV", "voting in-sample", "single cross-selected",
               "voting cross-selected", "cross-selection picks", "single test", "voting test"]
    rows = []
    for ds in C.parse_datasets(args.datasets):
        started = time.time()
        rows.append(replay(spark, ds, args.data_dir, args.budget, args.split_seed))
        print(f"{ds.name}: {time.time() - started:.0f} s", flush=True)
    print(C.environment_line())
    print(C.markdown_table(columns, rows))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
