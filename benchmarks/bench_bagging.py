#!/usr/bin/env python
"""Bagged fold models against one refit on all training rows, for the portfolio's leading learners.

    .venv/bin/python benchmarks/bench_bagging.py                                    # all seven sets
    .venv/bin/python benchmarks/bench_bagging.py --datasets mammography,credit_g --output /tmp/bag.md

What it answers: AutoGluon's best_quality keeps k fold models per learner and averages them
("bagging") where spark-automl refits the chosen configuration once on every training row. Is the
bag worth k fits on the shared sets? Same split and metric as bench_vs_flaml.py (_common.py); each
learner is built by spark-automl's own registry (LightGBM's defaults, its extra-trees twin,
ExtremeRandomTrees' defaults); one-hot features for the learners without native categories.
Prints, per dataset and learner, the held-out score of the refit and of the k-fold bags (k = 3, 5;
fold models seeded apart), and the fit seconds of each.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402

LEARNERS = {  # label -> (registry name per task, params)
    "LightGBM defaults": ("LightGBM", {}),
    "LightGBM extra_trees": ("LightGBM", {"extra_trees": True}),
    "ExtremeRandomTrees defaults": ("ExtremeRandomTrees", {"n_estimators": 200, "max_features": 0.5,
                                                           "min_samples_leaf": 1}),
}
FOLDS = (3, 5)


def _features(train: pd.DataFrame, test: pd.DataFrame, native: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Native pandas categories for LightGBM; one-hot with a -1 fill for the scikit-learn forests."""
    both = pd.concat([train, test], keys=["train", "test"])
    text = [c for c in both.columns if both[c].dtype == object]
    if native:
        both[text] = both[text].astype("category")
    else:
        both = pd.get_dummies(both, columns=text, dummy_na=True).astype(float).fillna(-1.0)
    return both.loc["train"], both.loc["test"]


def _fit_predict(ds: C.Dataset, name: str, params: dict, X, y, X_test, seed: int):
    from spark_automl.models import REGISTRY

    spec = REGISTRY.get(name, ds.task)
    # the library's own rule: OpenMP learners on one thread below threads_from_cells (every set here), forests on both
    learner = spec.factory(dict(params), ds.task, 1 if spec.threads_from_cells else 2, seed)
    learner.fit(X, y)
    if ds.task == "classification":
        return C.align_proba(learner.predict_proba(X_test), learner.classes_, C.sorted_classes(y))
    return learner.predict(X_test)


def run(ds: C.Dataset, data_dir: Path) -> list[list]:
    from sklearn.model_selection import KFold, StratifiedKFold

    train, test = C.split(ds, C.load(ds, data_dir))
    y, y_test = train.pop(ds.target), test.pop(ds.target)
    classes = C.sorted_classes(y) if ds.task == "classification" else None
    rows = []
    for label, (name, params) in LEARNERS.items():
        X, X_test = _features(train, test, native=name == "LightGBM")
        started = time.perf_counter()
        refit = C.score(ds, y_test, _fit_predict(ds, name, params, X, y, X_test, seed=0), classes, classes)
        row = [ds.name, label, refit, time.perf_counter() - started]
        for k in FOLDS:
            splitter = (StratifiedKFold if ds.task == "classification" else KFold)(k, shuffle=True, random_state=0)
            started, total = time.perf_counter(), 0.0
            for i, (fit_rows, _) in enumerate(splitter.split(X, y)):
                total = total + _fit_predict(ds, name, params, X.iloc[fit_rows], y.iloc[fit_rows], X_test, seed=i)
            bagged = C.score(ds, y_test, total / k, classes, classes)
            row += [bagged, bagged - refit, time.perf_counter() - started]
        print(C.text_table(COLUMNS, [row]).splitlines()[-1], flush=True)
        rows.append(row)
    return rows


COLUMNS = ["dataset", "learner", "refit", "s"] + [c for k in FOLDS for c in (f"bag{k}", f"bag{k}-refit", "s")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=C.parse_datasets, default=list(C.DATASETS.values()))
    parser.add_argument("--data-dir", type=Path, default=C.DEFAULT_DATA_DIR)
    parser.add_argument("--output", type=Path, default=None, help="also write the table as markdown here")
    args = parser.parse_args(argv)
    rows = [row for ds in args.datasets for row in run(ds, args.data_dir)]
    print()
    print(C.text_table(COLUMNS, rows))
    if args.output:
        args.output.write_text("# Bagged fold models vs one refit\n\n" + C.environment_line() + "\n\n"
                               + C.markdown_table(COLUMNS, rows) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
