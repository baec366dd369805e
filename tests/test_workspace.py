"""Workspace.from_config() and Experiment(ws, name): Azure's code resolves to an MLflow location."""

import json

import pytest

from spark_automl import ConfigError, Experiment, Workspace


def test_from_config_reads_azure_config_json_from_a_parent_folder(tmp_path, monkeypatch):
    (tmp_path / ".azureml").mkdir()
    (tmp_path / ".azureml" / "config.json").write_text(json.dumps(
        {"subscription_id": "s", "resource_group": "r", "workspace_name": "w",
         "tracking_uri": "sqlite:///x.db", "registry_uri": "sqlite:///reg.db", "friendly_name": "ignored"}))
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    ws = Workspace.from_config()
    assert (ws.name, ws.subscription_id, ws.resource_group) == ("w", "s", "r")
    assert ws.get_mlflow_tracking_uri() == "sqlite:///x.db" and ws.registry_uri == "sqlite:///reg.db"
    experiment = Experiment(ws, "exp")
    assert (experiment.name, experiment.tracking_uri, experiment.registry_uri) == ("exp", "sqlite:///x.db",
                                                                                   "sqlite:///reg.db")
    assert Experiment(ws, "exp", tracking_uri="sqlite:///other.db").tracking_uri == "sqlite:///other.db"


def test_without_config_the_default_store_is_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    assert Workspace.from_config().tracking_uri == "sqlite:///mlflow.db"
    assert Experiment("plain").tracking_uri is None  # Experiment(name) still works without a workspace


def test_bad_workspace_inputs_are_named(tmp_path):
    with pytest.raises(ConfigError, match="found no config file"):
        Workspace.from_config(str(tmp_path / "missing" / "deeper"))
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="could not read.*config.json"):
        Workspace.from_config(str(bad))
    with pytest.raises(ConfigError, match="'workspace' parameter of Experiment"):
        Experiment(42, "name")
    with pytest.raises(ConfigError, match="'subscription_id'"):
        Workspace(subscription_id=5)
    with pytest.raises(ConfigError, match="tracking_uri"):
        Workspace(tracking_uri="nope://x")
