"""The shipped job configs: every one loads, validates and names data a fresh clone has."""

import os
from pathlib import Path

import pandas as pd
import pytest

from spark_automl import AutoMLConfig
from spark_automl.cli import DATA_KEYS, load_job_config, resolve_data

REPO = Path(__file__).resolve().parents[1]
SCORE_CONFIGS = [REPO / "conf" / "base" / "score.yaml"]
CONFIGS = sorted(p for p in (REPO / "conf" / "base").glob("*.yaml") if p not in SCORE_CONFIGS)


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


def test_the_shipped_score_config_validates():
    from spark_automl.cli import load_score_config

    job = load_score_config(str(SCORE_CONFIGS[0]))
    assert job["model"] == "models:/credit-g-classifier@champion" and job["probabilities"] is True
    assert os.path.isfile(resolve_data(job["input"]))


@pytest.mark.parametrize("text, fragment", [
    ("model: m\n", "needs 'input'"),
    ("model: m\ninput: t\n", "exactly one of 'output'"),
    ("model: m\ninput: t\noutput: o\nmode: replace\n", "'mode' parameter"),
    ("model: m\ninput: t\noutput: o\nprobabilities: yes please\n", "'probabilities' parameter"),
    ("model: m\ninput: t\noutput: o\nwhere: x\n", r"Unknown key\(s\) \['where'\]"),
])
def test_score_config_errors_name_the_key(tmp_path, text, fragment):
    from spark_automl.cli import load_score_config
    from spark_automl.errors import ConfigError

    path = tmp_path / "score.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_score_config(str(path))


def test_the_command_exits_with_a_meaningful_code_and_one_paragraph(tmp_path, capsys):
    from spark_automl.cli import main

    bad = tmp_path / "train.yaml"
    bad.write_text("experiment_name: x\nautoml: {task: classification, timeout: 3}\n")
    assert main(["train", "--config", str(bad)]) == 2  # a bad config
    err = capsys.readouterr().err
    assert err.startswith("spark-automl train: ConfigError: Unknown AutoMLConfig parameter(s) ['timeout']")
    assert "Traceback" not in err
    assert main(["--verbose", "train", "--config", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "missing.yaml cannot be read" in err


def test_help_loads_no_heavy_module():
    import subprocess
    import sys

    code = ("import sys, contextlib, io\nfrom spark_automl.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit as e:\n        assert e.code == 0\n"
            "print(sorted(m for m in ('pyspark', 'mlflow', 'pandas', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
    module = subprocess.run([sys.executable, "-m", "spark_automl", "score", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert module.returncode == 0 and "--config" in module.stdout
