"""The notebook stand-ins: widgets, display() and experiment paths off Databricks."""

import pandas as pd

from spark_automl.notebook import display, experiment_path, widget


def test_widgets_take_their_default_or_the_environment(monkeypatch):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    assert widget(None, "timeout_minutes", "1") == "1"
    monkeypatch.setenv("SPARK_AUTOML_WIDGET_TIMEOUT_MINUTES", "0.5")
    assert widget(None, "timeout_minutes", "1") == "0.5"


def test_display_prints_a_preview_and_paths_stay_names_locally(monkeypatch, capsys):
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    display(pd.DataFrame({"model": [f"m{i}" for i in range(30)]}), rows=3)
    assert capsys.readouterr().out.split() == ["model", "m0", "m1", "m2"]
    assert experiment_path(None, "credit") == "credit" and experiment_path(None, "/Shared/x") == "/Shared/x"
