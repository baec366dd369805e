"""spark-automl: Azure ML AutoML (SDK v1) on Spark, tracked in MLflow.

The public names load on first use (PEP 562): `import spark_automl` costs almost nothing, so a
command's --help and every fresh Spark Python worker start fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import _runtime  # noqa: F401  (must run before LightGBM/XGBoost load their OpenMP runtime)

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("classify", "forecast", "regress"), ".api"),
    "AutoMLConfig": ".config",
    **dict.fromkeys(("AutoMLSummary", "TrialInfo"), ".databricks"),
    **dict.fromkeys(("Dataset", "TabularDataset"), ".dataset"),
    **dict.fromkeys(("BaggedEstimator", "StackEnsembleEstimator", "VotingEnsembleEstimator"), ".ensemble.estimators"),
    **dict.fromkeys(("AutoMLError", "CanceledError", "ConfigError", "DataError", "ExportError",
                     "ExplanationBudgetError", "NoTrialSucceededError", "TrialError", "TrialTimeoutError"), ".errors"),
    "Experiment": ".experiment",
    "FeaturizationConfig": ".featurize.config",
    "ForecastingParameters": ".forecasting.settings",
    "CustomMetric": ".metrics",
    "REGISTRY": ".models",
    **dict.fromkeys(("SparkAutoML", "SparkAutoMLModel"), ".ml"),
    "ModelProxy": ".model_proxy",
    **dict.fromkeys(("PromotionDecision", "promote"), ".promote"),
    **dict.fromkeys(("AutoMLRun", "ChildRun", "ModelTestRun"), ".run"),
    **dict.fromkeys(("forecast_spark", "score_spark"), ".scoring"),
    "local_session": ".spark_utils",
    "RunDetails": ".widgets",
    "Workspace": ".workspace",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'spark_automl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
