"""The shipped job configs: every one loads, validates and names data a fresh clone has."""

import os
from pathlib import Path

import pandas as pd
import pytest

from spark_automl import AutoMLConfig
from spark_automl.cli import DATA_KEYS, MODEL_JOBS, load_job_config, load_model_job_config, resolve_data

REPO = Path(__file__).resolve().parents[1]
MODEL_JOB_CONFIGS = [REPO / "conf" / "base" / f"{kind}.yaml" for kind in MODEL_JOBS]  # score, forecast, promote
CONFIGS = sorted(p for p in (REPO / "conf" / "base").glob("*.yaml") if p not in MODEL_JOB_CONFIGS)


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


def test_the_shipped_model_job_configs_validate_and_chain():
    """train registers the challenger, promote moves the champion alias, score and forecast read it."""
    train = load_job_config(str(REPO / "conf" / "base" / "train.yaml"))
    jobs = {p.stem: load_model_job_config(str(p), p.stem) for p in MODEL_JOB_CONFIGS}
    name = train.register["model_name"]
    assert jobs["promote"]["model_name"] == name and jobs["promote"]["challenger"] == train.register["alias"]
    assert jobs["score"]["model"] == f"models:/{name}@{jobs['promote']['alias']}" and jobs["score"]["probabilities"]
    forecaster = load_job_config(str(REPO / "conf" / "base" / "train_forecaster.yaml")).register
    assert jobs["forecast"]["model"] == f"models:/{forecaster['model_name']}@{forecaster['alias']}"
    assert os.path.isfile(resolve_data(jobs["score"]["input"])) and os.path.isfile(resolve_data(jobs["promote"]["data"]))


def test_a_conf_local_overlay_is_merged_key_by_key_and_validated(tmp_path, capsys):
    from spark_automl.errors import ConfigError

    (tmp_path / "base").mkdir()
    (tmp_path / "local").mkdir()
    base = tmp_path / "base" / "score.yaml"
    base.write_text("model: models:/m@champion\ninput: rows.csv\noutput: out\nspark: {master: 'local[2]', app_name: a}\n")
    assert load_model_job_config(str(base), "score")["spark"] == {"master": "local[2]", "app_name": "a"}
    (tmp_path / "local" / "score.yaml").write_text("tracking_uri: http://mlflow.internal:5000\nspark: {master: 'local[1]'}\n")
    job = load_model_job_config(str(base), "score")
    assert job["tracking_uri"] == "http://mlflow.internal:5000" and job["spark"] == {"master": "local[1]", "app_name": "a"}
    assert "local overlay" in capsys.readouterr().out
    (tmp_path / "local" / "score.yaml").write_text("mode: replace\n")
    with pytest.raises(ConfigError, match="'mode' parameter"):
        load_model_job_config(str(base), "score")


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


def test_cancel_names_a_store_without_the_experiment_and_exits_with_the_tracking_code(tmp_path, capsys):
    from spark_automl.cli import main

    job = tmp_path / "train.yaml"
    job.write_text(f"experiment_name: nowhere\ntracking_uri: sqlite:///{tmp_path}/mlflow.db\n"
                   "automl: {task: classification, label_column_name: y}\n")
    assert main(["cancel", "--config", str(job), "--run-id", "0123abcd"]) == 4
    err = capsys.readouterr().err
    assert "spark-automl cancel: TrackingError: No MLflow experiment named 'nowhere'" in err
    assert "Traceback" not in err


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
