"""spark-automl: Azure ML AutoML (SDK v1) on Spark, tracked in MLflow."""

from . import _runtime  # noqa: F401  (must run before LightGBM/XGBoost load their OpenMP runtime)

from .api import classify, forecast, regress
from .config import AutoMLConfig
from .databricks import AutoMLSummary, TrialInfo
from .dataset import Dataset, TabularDataset
from .ensemble.estimators import StackEnsembleEstimator, VotingEnsembleEstimator
from .errors import (AutoMLError, CanceledError, ConfigError, DataError, ExportError, NoTrialSucceededError,
                     TrialError, TrialTimeoutError)
from .experiment import Experiment
from .featurize.config import FeaturizationConfig
from .forecasting.settings import ForecastingParameters
from .metrics import CustomMetric
from .models import REGISTRY
from .model_proxy import ModelProxy
from .run import AutoMLRun, ChildRun, ModelTestRun
from .scoring import forecast_spark, score_spark
from .spark_utils import local_session
from .widgets import RunDetails
from .workspace import Workspace

__version__ = "0.1.0"

__all__ = [
    "AutoMLConfig", "AutoMLError", "AutoMLSummary", "TrialInfo", "Dataset", "TabularDataset", "AutoMLRun", "CanceledError", "ChildRun", "ConfigError", "CustomMetric", "ModelProxy",
    "ModelTestRun", "RunDetails", "Workspace", "DataError", "Experiment", "ExportError",
    "FeaturizationConfig", "NoTrialSucceededError", "REGISTRY", "StackEnsembleEstimator", "TrialError",
    "TrialTimeoutError", "VotingEnsembleEstimator", "ForecastingParameters", "classify", "forecast", "local_session", "regress", "forecast_spark", "score_spark",
]
