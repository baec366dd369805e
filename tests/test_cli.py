"""The shipped job configs: every one loads, validates and names data a fresh clone has."""

import os
from pathlib import Path

import pandas as pd
import pytest

from spark_automl import AutoMLConfig
from spark_automl.cli import DATA_KEYS, load_job_config, resolve_data

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "conf" / "base").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_shipped_job_config_validates_and_its_data_is_in_the_repository(path):
    job = load_job_config(str(path))
    params = {k: resolve_data(v) if k in DATA_KEYS else v for k, v in job.automl.items()}
    AutoMLConfig(**params)  # raises on any invalid setting
    for key in DATA_KEYS:
        if key in params:
            data = params[key]
            assert os.path.isfile(data) and Path(data).resolve().is_relative_to(REPO), \
                f"{path.name}: {key} {data!r} is not a file in the repository (a fresh clone has nothing beside it)"
            frame = pd.read_csv(data, nrows=5)
            assert job.automl["label_column_name"] in frame.columns


def test_the_regression_job_trains_on_the_bundled_ames_sample():
    frame = pd.read_csv(resolve_data(load_job_config(str(CONFIGS[0].with_name("regression.yaml"))).automl
                                     ["training_data"]))
    assert frame.shape == (1200, 81) and frame["price"].notna().all()
