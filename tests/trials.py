"""Finished trials built from given validation predictions, for tests of what reads only those (ensemble
selection, the benchmarks' cross-selection replay)."""

from __future__ import annotations

import numpy as np

from spark_automl.metrics import ValidationTarget, to_loss
from spark_automl.search.trial import OK, TrialResult


def given_trial(iteration: int, prediction, target: ValidationTarget, metric: str) -> TrialResult:
    oof = np.asarray(prediction, dtype=np.float64)
    loss = target.loss(metric, target.take(oof))
    return TrialResult(iteration, f"model{iteration}", {}, "portfolio", OK, loss=loss, primary_metric=metric,
                       score=to_loss(metric, loss), oof=oof.astype(np.float32))
