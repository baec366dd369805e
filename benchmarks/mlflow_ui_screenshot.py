#!/usr/bin/env python
"""What a person sees in MLflow: the parent run's page in a real headless browser.

    .venv/bin/python benchmarks/mlflow_ui_screenshot.py                  # trains a short credit_g run first
    .venv/bin/python benchmarks/mlflow_ui_screenshot.py --tracking-uri sqlite:///mlflow.db --run-id <parent>

Starts `mlflow server` on the store, opens the parent run's page in Chromium (`apt-get install
chromium`), checks that the rendered page shows the run's tags (the best child, the model, the
registered version) and its dataset input, saves the screenshot as `ui/parent_run.png` on that run
and prints where it is. Exits non-zero when the page lacks any of them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train(tracking_uri: str) -> str:
    from spark_automl import AutoMLConfig, Experiment, local_session
    from spark_automl.datasets import dataset_path

    spark = local_session("ui-screenshot", cores=2)
    spark.sparkContext.setLogLevel("ERROR")
    cfg = AutoMLConfig(task="classification", training_data=str(dataset_path("credit_g")), label_column_name="class",
                       primary_metric="AUC_weighted", iterations=4, positive_label="bad", seed=0,
                       allowed_models=["LightGBM", "LogisticRegression"], model_explainability=False)
    run = Experiment("ui-screenshot", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    run.register_model("ui-screenshot-model")
    return run.id


def _wait(url: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"mlflow server did not answer {url} within {seconds:.0f}s")


def _browser(url: str, *args: str) -> subprocess.CompletedProcess:
    exe = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if exe is None:
        sys.exit("No Chromium found: apt-get install chromium")
    return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1500,1400", "--virtual-time-budget=20000", *args, url],
                          capture_output=True, text=True, timeout=180)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", help="an existing store (default: a fresh one with a short run)")
    parser.add_argument("--run-id", help="the parent run to show (with --tracking-uri)")
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "mlflow_parent_run.png"))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ui-screenshot-"))
    os.chdir(workdir)  # spark-warehouse / derby.log, if any, land here
    uri = args.tracking_uri or f"sqlite:///{workdir}/mlflow.db"
    run_id = args.run_id or _train(uri)

    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri, registry_uri=uri)
    run = client.get_run(run_id)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri, "--host",
                               "127.0.0.1", "--port", str(port), "--workers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(f"{base}/health", 120)
        page = f"{base}/#/experiments/{run.info.experiment_id}/runs/{run_id}"
        dom = _browser(page, "--dump-dom").stdout
        png = workdir / "parent_run.png"
        _browser(page, f"--screenshot={png}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    tags = run.data.tags
    expected = {"run name": run.info.run_name, "best child tag": "automl.best_child_run_id",
                "registered model": tags.get("automl.registered_model", "").split("/")[0] or "registered_model",
                "dataset input": "credit_g", "primary metric": "AUC_weighted"}
    found = {what: bool(text) and text in dom for what, text in expected.items()}
    for what, ok in found.items():
        print(f"  {'ok     ' if ok else 'MISSING'} {what}: {expected[what]!r}")
    if not png.exists():
        print("The browser wrote no screenshot.")
        return 1
    client.log_artifact(run_id, str(png), "ui")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, args.output)
    print(f"Screenshot: {args.output} ({png.stat().st_size} bytes), logged as ui/parent_run.png on run {run_id}")
    print(f"Page: {page}")
    return 0 if all(found.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
