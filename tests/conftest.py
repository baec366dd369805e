"""Shared fixtures: ONE local[2] SparkSession per test session, a temporary MLflow store per test."""

from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

SHARED_DATASETS = os.environ.get(
    "SPARK_AUTOML_SHARED_DATASETS",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "datasets"),
)


@pytest.fixture(scope="session")
def spark():
    from spark_automl import local_session

    session = local_session("spark-automl-tests", cores=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture()
def tracking_uri(tmp_path, monkeypatch):
    """A fresh SQLite MLflow store; the working directory moves to tmp so nothing lands in the repo."""
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/mlflow.db"


def shared_csv(name: str, **kwargs) -> pd.DataFrame:
    path = os.path.join(SHARED_DATASETS, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"shared dataset {path} is missing; set SPARK_AUTOML_SHARED_DATASETS")
    return pd.read_csv(path, **kwargs)


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    from spark_automl.datasets import dataset_path

    return pd.read_csv(dataset_path("penguins"))


@pytest.fixture(scope="session")
def credit_g() -> pd.DataFrame:
    from spark_automl.datasets import dataset_path

    return pd.read_csv(dataset_path("credit_g"))
