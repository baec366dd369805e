"""Azure's Run methods over one MLflow run: status, details, tags, files.

AutoMLRun, its child runs and its model-test runs share them; each names its MLflow run id
(`id`) and the Tracker that reads the store (`_view_tracker`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timezone
from typing import Any

# MLflow run status -> Azure's run status
AZURE_STATUS = {"FINISHED": "Completed", "FAILED": "Failed", "RUNNING": "Running", "KILLED": "Canceled",
                "SCHEDULED": "NotStarted", "DEAD": "NotResponding"}  # DEAD: RUNNING, but its heartbeat stopped
MODEL_TEST = "automl.model_test"  # Azure's run type of a model-test run
CHILD = "automl.child"


def _utc(millis: int | None) -> str | None:
    if not millis:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).isoformat().replace("+00:00", "Z")


class RunView:
    """Mixin: the reading half of Azure's Run API."""

    @property
    def id(self) -> str | None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _view_tracker(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def _mlflow_run(self):
        from .errors import ConfigError

        if self.id is None:
            raise ConfigError("This run was not logged (MLflow tracking was unavailable): it has no files, tags "
                              "or details in a tracking store.")
        return self._view_tracker().client.get_run(self.id)

    @property
    def tags(self) -> dict[str, str]:
        """The MLflow run's tags (MLflow's own mlflow.* tags left out)."""
        return {k: v for k, v in self._mlflow_run().data.tags.items() if not k.startswith("mlflow.")}

    def get_tags(self) -> dict[str, str]:
        return self.tags

    def get_status(self) -> str:
        """Azure's status: Running, Completed, Failed or Canceled."""
        return AZURE_STATUS.get(self._mlflow_run().info.status, self._mlflow_run().info.status)

    def _output_datasets(self) -> list[dict[str, Any]]:
        return []

    def get_details(self) -> dict[str, Any]:
        """Azure's run details: id, status, UTC start/end, properties, tags, datasets."""
        run = self._mlflow_run()
        return {"runId": self.id, "target": "spark", "status": AZURE_STATUS.get(run.info.status, run.info.status),
                "startTimeUtc": _utc(run.info.start_time), "endTimeUtc": _utc(run.info.end_time),
                "properties": dict(getattr(self, "properties", {}) or {}), "tags": self.tags,
                "inputDatasets": [], "outputDatasets": self._output_datasets(), "logFiles": {},
                "artifactUri": run.info.artifact_uri}

    def get_file_names(self) -> list[str]:
        """Every artifact of the run, as paths relative to its artifact root."""
        client, out, folders = self._view_tracker().client, [], [None]
        while folders:
            for item in client.list_artifacts(self.id, folders.pop()):
                (folders if item.is_dir else out).append(item.path)
        return sorted(out)

    def download_file(self, name: str, output_file_path: str | None = None, **_ignored) -> str:
        """One artifact to output_file_path (default: its file name in the working directory, as Azure)."""
        from .errors import ConfigError

        names = self.get_file_names()
        if name not in names:
            raise ConfigError(f"Run {self.id} has no file {name!r}. Its files: {', '.join(names[:20]) or 'none'}.")
        target = output_file_path or os.path.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, os.path.basename(name))
        with tempfile.TemporaryDirectory() as tmp:
            local = self._view_tracker().client.download_artifacts(self.id, name, tmp)
            folder = os.path.dirname(os.path.abspath(target))
            os.makedirs(folder, exist_ok=True)
            shutil.copyfile(local, target)
        return target

    def download_files(self, prefix: str | None = None, output_directory: str | None = None) -> list[str]:
        """Every artifact under prefix into output_directory (default: the working directory)."""
        names = [n for n in self.get_file_names() if prefix is None or n.startswith(prefix)]
        return [self.download_file(n, os.path.join(output_directory or ".", n)) for n in names]

    def wait_for_completion(self, show_output: bool = False, wait_post_processing: bool = False,
                            raise_on_error: bool = True) -> dict[str, Any]:
        """A child or test run is complete when its handle exists: its details."""
        return self.get_details()
