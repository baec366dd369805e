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
