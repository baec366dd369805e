"""spark-automl: Azure ML AutoML (SDK v1) on Spark, tracked in MLflow."""

from . import _runtime  # noqa: F401  (must run before LightGBM/XGBoost load their OpenMP runtime)

from .api import classify, forecast, regress
from .config import AutoMLConfig
from .ensemble.estimators import StackEnsembleEstimator, VotingEnsembleEstimator
from .errors import (AutoMLError, ConfigError, DataError, ExportError, NoTrialSucceededError, TrialError,
                     TrialTimeoutError)
from .experiment import Experiment
from .featurize.config import FeaturizationConfig
from .forecasting.settings import ForecastingParameters
from .models import REGISTRY
from .run import AutoMLRun, ChildRun
from .scoring import forecast_spark, score_spark
from .spark_utils import local_session

__version__ = "0.1.0"

__all__ = [
    "AutoMLConfig", "AutoMLError", "AutoMLRun", "ChildRun", "ConfigError", "DataError", "Experiment", "ExportError",
    "FeaturizationConfig", "NoTrialSucceededError", "REGISTRY", "StackEnsembleEstimator", "TrialError",
    "TrialTimeoutError", "VotingEnsembleEstimator", "ForecastingParameters", "classify", "forecast", "local_session", "regress", "forecast_spark", "score_spark",
]
