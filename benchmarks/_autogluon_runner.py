#!/usr/bin/env python
"""One AutoGluon run, in AutoGluon's own virtual environment (its pins clash with ours).

    .venv-ag/bin/python benchmarks/_autogluon_runner.py DATASET BUDGET PRESET DATA_DIR OUT_JSON [SPLIT_SEED]

bench_vs_flaml.py calls it with the same split protocol (_common.split) and writes one JSON line:
score, wall, best model, number of models trained;
its test predictions go to OUT_JSON with the suffix .npy. Set it up once:

    python3 -m venv .venv-ag && .venv-ag/bin/pip install "autogluon.tabular[lightgbm,catboost,xgboost]==1.6.*"
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402


def main(name: str, budget: float, preset: str, data_dir: str, out: str, split_seed: int = 0) -> None:
    from autogluon.tabular import TabularPredictor

    ds = C.KNOWN[name]
    train, test = C.split(ds, C.load(ds, Path(data_dir)), split_seed)
    metric = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "r2"}[ds.kind]
    folder = tempfile.mkdtemp(prefix=f"bench-ag-{name}-")
    t0 = time.time()
    result = {"score": float("nan"), "wall": float("nan"), "best": "-", "trials": None, "error": ""}
    try:
        predictor = TabularPredictor(label=ds.target, eval_metric=metric, path=folder, verbosity=0,
                                     problem_type=ds.kind).fit(train, time_limit=budget, presets=preset)
        result["wall"] = time.time() - t0

        class Proba:  # what C.score_predictor expects
            classes_ = list(predictor.class_labels) if ds.task == "classification" else None

            def predict_proba(self, X):
                return predictor.predict_proba(X, as_multiclass=True).to_numpy()

            def predict(self, X):
                return predictor.predict(X).to_numpy()

        output, result["score"] = C.predict_and_score(ds, train, test, Proba())
        np.save(Path(out).with_suffix(".npy"), output)  # bench_vs_flaml.py's paired bootstrap reads it
        result["best"] = str(predictor.model_best)
        result["trials"] = len(predictor.model_names())
    except Exception as err:  # noqa: BLE001 - reported in the table's footer
        result["wall"] = time.time() - t0
        result["error"] = f"{type(err).__name__}: {err}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5],
         int(sys.argv[6]) if len(sys.argv) > 6 else 0)
