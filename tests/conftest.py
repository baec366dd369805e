"""Shared fixtures: ONE local[2] SparkSession per test session, a temporary MLflow store per test."""

from __future__ import annotations

import os

import pandas as pd
import pytest

# Small real samples that live in the repository (provenance: tests/datasets/README.md).
TEST_DATASETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets")


def pytest_collection_modifyitems(config, items):
    """Tests marked extra("forecast") etc. are skipped where that extra is not installed (the core
    install of the pyspark 3.5 lane), and run everywhere else."""
    from spark_automl.extras import missing_modules

    for item in items:
        for mark in item.iter_markers("extra"):
            missing = missing_modules(mark.args[0])
            if missing:
                item.add_marker(pytest.mark.skip(reason=f"needs the {mark.args[0]!r} extra ({', '.join(missing)})"))


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


def dataset_csv(name: str, **kwargs) -> pd.DataFrame:
    """A dataset for the tests, read only from inside the repository.

    `name` is a stem ("txhousing") or a file name ("txhousing.csv", "oj_sales.csv.gz"). The
    datasets bundled with the package (airline_passengers, ames_housing, credit_g, penguins) come from
    spark_automl.datasets; the others are the samples in tests/datasets/<stem>.csv.gz.
    kwargs go to pandas.read_csv (compression is inferred from the file name).
    """
    from spark_automl.datasets import BUNDLED, dataset_path

    stem = os.path.basename(name).removesuffix(".gz").removesuffix(".csv")
    if stem in BUNDLED:
        path = dataset_path(stem)
    else:
        path = os.path.join(TEST_DATASETS, f"{stem}.csv.gz")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no test dataset {name!r}: expected {path} (see tests/datasets/README.md)")
    kwargs.pop("compression", None)  # always inferred from the file we actually read
    return pd.read_csv(path, **kwargs)


# Old name, kept only for tests/integration/test_experiment.py until it switches to dataset_csv.


@pytest.fixture(scope="session")
def penguins() -> pd.DataFrame:
    from spark_automl.datasets import dataset_path

    return pd.read_csv(dataset_path("penguins"))


@pytest.fixture(scope="session")
def credit_g() -> pd.DataFrame:
    from spark_automl.datasets import dataset_path

    return pd.read_csv(dataset_path("credit_g"))
