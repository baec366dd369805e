"""`import spark_automl` stays light: the heavy libraries load when a run first needs them (every fresh
Spark Python worker imports the package too)."""

import json
import subprocess
import sys

HEAVY = ("mlflow", "lightgbm", "xgboost", "shap", "onnx", "onnxruntime", "statsforecast", "prophet", "matplotlib")


def test_import_loads_no_heavy_library():
    code = ("import json, sys; import spark_automl; "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_old_pickle_path_of_the_forecast_pyfunc_still_resolves():
    from spark_automl.forecasting import model
    from spark_automl.forecasting.pyfunc import ForecastPyfunc

    assert model.ForecastPyfunc is ForecastPyfunc  # models logged before the move name it there


def test_the_extras_named_in_errors_are_the_extras_setup_cfg_installs():
    import configparser
    import os
    import re

    from spark_automl.extras import EXTRAS

    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "setup.cfg"))
    declared = {name: {re.split(r"[<>=!\[ ]", line.strip())[0] for line in value.strip().splitlines()
                       if line.strip() and not line.strip().startswith("#")}
                for name, value in cfg["options.extras_require"].items()}
    for extra, modules in EXTRAS.items():
        assert declared[extra] == set(modules), extra
    assert declared["all"] == set().union(*EXTRAS.values())
    core = {re.split(r"[<>=!\[ ]", line.strip())[0] for line in cfg["options"]["install_requires"].strip().splitlines()}
    assert not core & declared["all"]  # the core install stays light


def test_a_feature_without_its_extra_names_the_pip_line(monkeypatch):
    import importlib.util

    import pytest

    from spark_automl import AutoMLConfig
    from spark_automl.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "statsforecast" else real(name, *a))
    with pytest.raises(ConfigError, match=r"task='forecasting' needs the 'forecast' extra.*statsforecast.*"
                                          r"pip install 'spark-automl\[forecast\]'"):
        AutoMLConfig(task="forecasting", time_column_name="t", forecast_horizon=3)
    AutoMLConfig(task="classification")  # the core needs no extra
