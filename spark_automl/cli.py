"""Job entry points (spark-submit, workflows): YAML config -> library calls, no other logic."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

from .config import PARAMETER_CONSTRAINTS, AutoMLConfig
from .datasets import BUNDLED, dataset_path
from .errors import ConfigError
from .experiment import Experiment
from .forecasting.settings import ForecastingParameters
from .tracking import check_uri, redact
from ._validation import BOOL, DICT, NONE, InstanceOf, Predicate, validate_parameters

_NAME = Predicate(lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty str")
_STR = InstanceOf((str,), "a str")
_LOCAL_MASTER = Predicate(lambda v: isinstance(v, str) and v.startswith("local[") and v.endswith("]"),
                          "a local master such as 'local[2]' (give a cluster master to spark-submit --master)")
# Every key of a job YAML and what it may hold: checked in full before Spark starts or data is read.
JOB_CONSTRAINTS = {
    "experiment_name": [_NAME], "tracking_uri": [NONE, _NAME], "spark": [NONE, DICT], "register": [NONE, DICT],
    "automl": [DICT], "show_output": [BOOL],
}
SPARK_CONSTRAINTS = {"master": [NONE, _LOCAL_MASTER], "app_name": [NONE, _NAME]}
REGISTER_CONSTRAINTS = {"model_name": [NONE, _NAME], "alias": [NONE, _NAME], "description": [NONE, _STR]}
JOB_KEYS = set(JOB_CONSTRAINTS)
DATA_KEYS = ("training_data", "validation_data", "test_data")


@dataclass
class JobConfig:
    experiment_name: str
    automl: dict[str, Any]
    tracking_uri: str | None = None
    spark: dict[str, Any] = field(default_factory=dict)
    register: dict[str, Any] = field(default_factory=dict)
    show_output: bool = True


def _check_section(path: str, section: str, values: dict, constraints: dict) -> None:
    unknown = sorted(set(values) - set(constraints))
    if unknown:
        raise ConfigError(f"Unknown key(s) {unknown} under '{section}' in job config {path}. "
                          f"Valid keys: {sorted(constraints)}.")
    validate_parameters(f"the job config's '{section}' ({path})", {k: values.get(k) for k in constraints},
                        constraints)


def load_job_config(path: str) -> JobConfig:
    """safe_load + validation of every key, with the same message shape as AutoMLConfig."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    if not isinstance(raw, dict):
        raise ConfigError(f"Job config {path} must be a YAML mapping; got {type(raw).__name__}.")
    unknown = sorted(set(raw) - JOB_KEYS)
    if unknown:
        raise ConfigError(f"Unknown key(s) {unknown} in job config {path}. Valid keys: {sorted(JOB_KEYS)}.")
    if "experiment_name" not in raw:
        raise ConfigError(f"Job config {path} needs 'experiment_name'.")
    if not isinstance(raw.get("automl"), dict):
        raise ConfigError(f"Job config {path} needs an 'automl' mapping of AutoMLConfig parameters.")
    validate_parameters(f"the job config {path}", {k: raw.get(k, True if k == "show_output" else None)
                                                   for k in JOB_CONSTRAINTS}, JOB_CONSTRAINTS)
    _check_section(path, "spark", raw.get("spark") or {}, SPARK_CONSTRAINTS)
    _check_section(path, "register", raw.get("register") or {}, REGISTER_CONSTRAINTS)
    check_uri("tracking_uri", raw.get("tracking_uri"))
    automl = raw["automl"]
    valid = set(PARAMETER_CONSTRAINTS) | set(ForecastingParameters.names())
    bad = sorted(set(automl) - valid)
    if bad:
        raise ConfigError(f"Unknown AutoMLConfig parameter(s) {bad} in {path}. Valid: {sorted(valid)}.")
    return JobConfig(raw["experiment_name"], automl, raw.get("tracking_uri"), raw.get("spark") or {},
                     raw.get("register") or {}, bool(raw.get("show_output", True)))


def resolve_data(value: Any) -> Any:
    """'bundled:credit_g' names a dataset shipped with the package; anything else is a path or table."""
    if isinstance(value, str) and value.startswith("bundled:"):
        name = value.split(":", 1)[1]
        if name not in BUNDLED:
            raise ConfigError(f"Unknown bundled dataset {name!r}; choose one of {sorted(BUNDLED)}.")
        return dataset_path(name)
    return value


def train(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train an AutoML model from a YAML job config.")
    parser.add_argument("--config", required=True, help="YAML job config (see conf/base/train.yaml)")
    parser.add_argument("--timeout-minutes", type=float, help="override automl.experiment_timeout_minutes")
    args = parser.parse_args(argv)
    job = load_job_config(args.config)
    params = {k: resolve_data(v) if k in DATA_KEYS else v for k, v in job.automl.items()}
    if args.timeout_minutes is not None:
        params["experiment_timeout_minutes"] = args.timeout_minutes
    config = AutoMLConfig(**params)  # validated before Spark starts
    spark = job_session(job.spark)
    print(f"Spark master: {spark.sparkContext.master} ({spark.sparkContext.defaultParallelism} task slots)")
    run = Experiment(job.experiment_name, spark=spark, tracking_uri=job.tracking_uri).submit(config, show_output=job.show_output)
    board = run.leaderboard.drop(columns=["params", "run_id"])
    print("\nLeaderboard (top 10):")
    print(board.head(10).to_string(index=False))
    if job.register:
        version = run.register_model(model_name=job.register.get("model_name"), alias=job.register.get("alias", "champion"),
                                     description=job.register.get("description"))
        print(f"\nRegistered model '{version.name}' version {version.version} "
              f"(alias '{job.register.get('alias', 'champion')}'): models:/{version.name}@{job.register.get('alias', 'champion')}")
    print(f"Model artifact: {run.model_uri}")
    print(f"MLflow tracking URI: {redact(run.tracker.tracking_uri)}  parent run: {run.id}")
    return 0


def job_session(settings: dict[str, Any]):
    """The job's session. A master given on the command line (spark-submit --master) or by the
    cluster always wins; the YAML's `spark.master` (a local[N] master) applies only when none is set."""
    from .spark_utils import configured_master, default_session

    app_name = settings.get("app_name", "spark-automl-job")
    if configured_master() is not None:
        return default_session(app_name)
    master = str(settings.get("master", "local[*]"))
    if not master.startswith("local["):
        raise ConfigError(f"spark.master {master!r} in the job config: only a local[N] master can be set there. "
                          "Give a cluster master to spark-submit (--master) instead.")
    return default_session(app_name, cores=master[len("local["):-1])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(train())
