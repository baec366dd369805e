"""Experiment: an MLflow experiment by name. submit(config) runs AutoML; get_run(id) re-attaches."""

from __future__ import annotations

import threading

from pyspark.sql import SparkSession

from .config import AutoMLConfig
from .errors import ConfigError
from .run import AutoMLRun
from .spark_utils import default_session
from .tracking import check_uri
from .workspace import Workspace


class Experiment:
    """Azure's Experiment(workspace, name): name <-> MLflow experiment; `Experiment(name)` uses the
    default workspace.

    spark: the session to use (defaults to the workspace's, else the active one, else the one
    spark-submit or the cluster configured, else an embedded local[*] when no master is set anywhere).
    tracking_uri: any MLflow tracking URI (defaults to the workspace's, else MLFLOW_TRACKING_URI, else
    sqlite:///mlflow.db). registry_uri: the Model Registry's URI when it differs from the tracking URI.
    Nothing here changes MLflow's process-global URIs.
    """

    def __init__(self, workspace: "Workspace | str | None" = None, name: str | None = None,
                 spark: SparkSession | None = None, tracking_uri: str | None = None,
                 registry_uri: str | None = None, **_azure_only):
        if isinstance(workspace, str) and name is None:  # Experiment("name"): no workspace
            workspace, name = None, workspace
        if workspace is not None and not isinstance(workspace, Workspace):
            raise ConfigError(f"The 'workspace' parameter of Experiment must be a Workspace (Workspace.from_config()) "
                              f"or None. Got {type(workspace).__name__} instead.")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"The 'name' parameter of Experiment must be a non-empty str. Got {name!r} instead.")
        check_uri("tracking_uri", tracking_uri)
        check_uri("registry_uri", registry_uri)
        self.workspace = workspace
        self.name = name
        self.spark = spark or (workspace.spark if workspace is not None else None)
        self.tracking_uri = tracking_uri or (workspace._tracking_uri if workspace is not None else None)
        self.registry_uri = registry_uri or (workspace._registry_uri if workspace is not None else None)

    def session(self) -> SparkSession:
        return self.spark or default_session()

    def submit(self, config: AutoMLConfig, show_output: bool = False, run_name: str | None = None,
               tags: dict[str, str] | None = None, wait: bool = True) -> AutoMLRun:
        """Run AutoML on `config` in this experiment; returns the parent run's handle.

        wait=False: the run goes on in a background thread and the handle returns at once; call
        run.wait_for_completion(), or run.cancel() to stop it with the best model so far."""
        from .control import RunControl
        from .orchestrator import run_experiment

        if not isinstance(config, AutoMLConfig):
            raise ConfigError(f"Experiment.submit expects an AutoMLConfig; got {type(config).__name__}.")
        control = RunControl()
        if wait:
            return run_experiment(self, config, show_output, run_name, tags, control)

        def work():
            try:
                control.finish(result=run_experiment(self, config, show_output, run_name, tags, control))
            except BaseException as err:  # noqa: BLE001 - handed to whoever waits on the run
                control.finish(error=err)

        threading.Thread(target=work, name=f"automl-{self.name}", daemon=True).start()
        return AutoMLRun._pending(self, control)

    def get_run(self, run_id: str) -> AutoMLRun:
        """Re-attach to a finished run by its id, from the tracking store alone (any process)."""
        return AutoMLRun(self, run_id)

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, workspace={self.workspace.name if self.workspace else None!r})"
