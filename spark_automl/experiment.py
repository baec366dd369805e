"""Experiment: an MLflow experiment by name. submit(config) runs AutoML; get_run(id) re-attaches."""

from __future__ import annotations

from pyspark.sql import SparkSession

from .config import AutoMLConfig
from .errors import ConfigError
from .run import AutoMLRun
from .spark_utils import default_session
from .tracking import check_uri


class Experiment:
    """Azure's Experiment(workspace, name) without the workspace: name <-> MLflow experiment.

    spark: the session to use (defaults to the active one, else the one spark-submit or the
    cluster configured, else an embedded local[*] when no master is set anywhere).
    tracking_uri: any MLflow tracking URI (defaults to MLFLOW_TRACKING_URI, else sqlite:///mlflow.db).
    registry_uri: the Model Registry's URI when it differs from the tracking URI.
    Nothing here changes MLflow's process-global URIs.
    """

    def __init__(self, name: str, spark: SparkSession | None = None, tracking_uri: str | None = None,
                 registry_uri: str | None = None):
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"The 'name' parameter of Experiment must be a non-empty str. Got {name!r} instead.")
        check_uri("tracking_uri", tracking_uri)
        check_uri("registry_uri", registry_uri)
        self.name = name
        self.spark = spark
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri

    def session(self) -> SparkSession:
        return self.spark or default_session()

    def submit(self, config: AutoMLConfig, show_output: bool = False, run_name: str | None = None,
               tags: dict[str, str] | None = None) -> AutoMLRun:
        """Run AutoML on `config` in this experiment; returns the parent run's handle."""
        from .orchestrator import run_experiment

        if not isinstance(config, AutoMLConfig):
            raise ConfigError(f"Experiment.submit expects an AutoMLConfig; got {type(config).__name__}.")
        return run_experiment(self, config, show_output, run_name, tags)

    def get_run(self, run_id: str) -> AutoMLRun:
        """Re-attach to a finished run by its id, from the tracking store alone (any process)."""
        return AutoMLRun(self, run_id)
