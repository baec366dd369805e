"""ModelProxy: Azure's way to test any child run's model after the run (azureml.train.automl.model_proxy)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from .errors import ConfigError

log = logging.getLogger(__name__)


class ModelProxy:
    """Test one child's model on labelled data: (predictions, metrics), logged as a model-test run.
    compute_target is accepted for Azure code and has no effect: the test runs in this Spark session."""

    def __init__(self, child_run: Any, compute_target: Any = None):
        from .run import ChildRun

        if not isinstance(child_run, ChildRun) or child_run._parent is None:
            raise ConfigError("ModelProxy(child_run=...) needs a child run of an AutoMLRun (run.get_best_child(), "
                              f"next(run.get_children())). Got {type(child_run).__name__}.")
        if compute_target is not None:
            log.info("ModelProxy: compute_target has no effect here; the test runs in this Spark session.")
        self.child_run = child_run

    def test(self, test_data: Any, include_predictions_only: bool = False) -> tuple[pd.DataFrame, dict[str, float]]:
        """include_predictions_only=False puts the test rows' own columns before the predictions
        (for pandas test data; a Spark DataFrame's predictions come alone)."""
        preds, metrics = self.child_run._parent.test(self.child_run.iteration, data=test_data)
        if not include_predictions_only and isinstance(test_data, pd.DataFrame) and len(test_data) == len(preds):
            preds = pd.concat([test_data.reset_index(drop=True), preds.reset_index(drop=True)], axis=1)
        return preds, metrics
