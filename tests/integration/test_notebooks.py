"""Each notebook runs end to end locally, as a Databricks notebook would: `spark` given, widgets read
(here from SPARK_AUTOML_WIDGET_* variables), display() printed, the %pip cell a comment."""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.slow]
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _run(path: Path, spark, monkeypatch, tmp_path, **widgets) -> dict:
    import runpy

    monkeypatch.chdir(tmp_path)  # the default MLflow store (./mlflow.db) lands here
    for name, value in widgets.items():
        monkeypatch.setenv(f"SPARK_AUTOML_WIDGET_{name.upper()}", str(value))
    source = path.read_text()
    assert source.startswith("# Databricks notebook source") and "# MAGIC %pip install" in source
    return runpy.run_path(str(path), init_globals={"spark": spark}, run_name="__main__")


def test_the_classification_notebook_runs_end_to_end(spark, monkeypatch, tmp_path, capsys):
    scope = _run(NOTEBOOKS / "automl_classification.py", spark, monkeypatch, tmp_path, iterations=3,
                 timeout_minutes=2, experiment="nb-credit", model_name="nb-credit-model")
    run, version = scope["run"], scope["version"]
    assert run.experiment.name == "nb-credit" and len([r for r in run.results if r.origin != "ensemble"]) == 3
    assert run.best.score > 0.65 and version.name == "nb-credit-model"
    counts = {row["prediction"]: row["count"] for row in scope["scored"].groupBy("prediction").count().collect()}
    assert set(counts) <= {"good", "bad"} and sum(counts.values()) == scope["test"].count()
    printed = capsys.readouterr().out
    assert "iteration" in printed and "prediction" in printed  # display() fell back to printing


@pytest.mark.extra("forecast")
def test_the_forecasting_notebook_runs_end_to_end(spark, monkeypatch, tmp_path, capsys):
    scope = _run(NOTEBOOKS / "automl_forecasting.py", spark, monkeypatch, tmp_path, iterations=3,
                 timeout_minutes=2, model_name="nb-airline")
    forecast = scope["forecast"]
    assert len(forecast) == 12 and forecast["prediction"].notna().all()
    smape = (abs(forecast["prediction"] - forecast["actual"]) / ((forecast["prediction"] + forecast["actual"]) / 2)).mean()
    assert smape < 0.15  # the held-out year of 1960
    assert "prediction_upper_95" in capsys.readouterr().out
