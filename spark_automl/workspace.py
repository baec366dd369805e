"""Workspace: Azure's workspace, resolved to an MLflow tracking and registry location.

Azure code runs with its import lines changed: `Workspace.from_config()` reads the same
config.json Azure writes (subscription_id, resource_group, workspace_name), plus optional
`tracking_uri` / `registry_uri` keys saying where MLflow lives. Without a config file the
workspace is the embedded default (MLFLOW_TRACKING_URI, else sqlite:///mlflow.db), with a note.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from .errors import ConfigError
from .tracking import check_uri, resolve_registry_uri, resolve_tracking_uri

log = logging.getLogger(__name__)

CONFIG_FILES = ("config.json", os.path.join(".azureml", "config.json"), os.path.join("aml_config", "config.json"))
_KEYS = ("subscription_id", "resource_group", "workspace_name", "tracking_uri", "registry_uri")


class Workspace:
    """Where an experiment's runs and models live. The Azure names are kept for display and tags;
    tracking_uri / registry_uri are what is used (None: the default store)."""

    def __init__(self, subscription_id: str | None = None, resource_group: str | None = None,
                 workspace_name: str | None = None, tracking_uri: str | None = None,
                 registry_uri: str | None = None, spark: Any = None, **_azure_only: Any):
        for key, value in (("subscription_id", subscription_id), ("resource_group", resource_group),
                           ("workspace_name", workspace_name)):
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"The '{key}' parameter of Workspace must be a str. Got {type(value).__name__}.")
        check_uri("tracking_uri", tracking_uri)
        check_uri("registry_uri", registry_uri)
        if _azure_only:
            log.info("Workspace: %s have no effect here (the workspace is an MLflow location).",
                     ", ".join(sorted(_azure_only)))
        self.subscription_id, self.resource_group = subscription_id, resource_group
        self.name = workspace_name or "default"
        self._tracking_uri, self._registry_uri, self.spark = tracking_uri, registry_uri, spark

    @classmethod
    def from_config(cls, path: str | None = None, _file_name: str | None = None, **kwargs: Any) -> "Workspace":
        """The workspace in config.json: path is the file or a folder to start from (default: the working
        directory); the folder, its .azureml/ and aml_config/, then each parent folder are searched."""
        found = _find_config(path, _file_name)
        if found is None:
            if path is not None:
                raise ConfigError(f"Workspace.from_config found no config file at or above {path!r} (looked for "
                                  f"{', '.join(CONFIG_FILES)}). Write one with keys {', '.join(_KEYS)}, or build "
                                  "Workspace(tracking_uri=...) directly.")
            log.info("Workspace.from_config: no config.json here; using the default MLflow store (%s).",
                     resolve_tracking_uri(None))
            return cls(**kwargs)
        try:
            with open(found, encoding="utf-8") as fh:
                settings = json.load(fh)
        except (OSError, ValueError) as err:
            raise ConfigError(f"Workspace.from_config could not read {found}: {err}. It must be a JSON object "
                              f"with keys among {', '.join(_KEYS)}.") from None
        if not isinstance(settings, dict):
            raise ConfigError(f"{found} must hold a JSON object with keys among {', '.join(_KEYS)}.")
        known = {k: settings[k] for k in _KEYS if k in settings}
        return cls(**known, **kwargs)

    @property
    def tracking_uri(self) -> str:
        return resolve_tracking_uri(self._tracking_uri)

    @property
    def registry_uri(self) -> str:
        return resolve_registry_uri(self._registry_uri, self.tracking_uri)

    def get_mlflow_tracking_uri(self) -> str:
        """Azure's name for the same thing."""
        return self.tracking_uri

    def __repr__(self) -> str:
        return (f"Workspace.create(name={self.name!r}, subscription_id={self.subscription_id!r}, "
                f"resource_group={self.resource_group!r})")


def _find_config(path: str | None, file_name: str | None) -> str | None:
    start = os.path.abspath(path or os.getcwd())
    if os.path.isfile(start):
        return start
    names = (file_name,) if file_name else CONFIG_FILES
    folder = start
    while True:
        for name in names:
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
