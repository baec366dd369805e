"""Job entry points (the `spark-automl` command, spark-submit, workflows): YAML config -> library
calls, no other logic.

    spark-automl train --config conf/base/train.yaml
    spark-automl score --config conf/base/score.yaml

Exit codes say what went wrong: 2 a bad config or bad data, 3 no trial succeeded, 4 the tracking
store, 5 another AutoML error, 1 anything unexpected, 130 interrupted. The error is one paragraph;
--verbose adds the traceback. Heavy modules load after the arguments are parsed, so --help is instant.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

from ._validation import BOOL, DICT, NONE, InstanceOf, Predicate, validate_parameters
from .datasets import BUNDLED, dataset_path
from .errors import ConfigError
from .tracking import check_uri, redact

_NAME = Predicate(lambda v: isinstance(v, str) and bool(v.strip()), "a non-empty str")
_STR = InstanceOf((str,), "a str")
_LOCAL_MASTER = Predicate(lambda v: isinstance(v, str) and v.startswith("local[") and v.endswith("]"),
                          "a local master such as 'local[2]' (give a cluster master to spark-submit --master)")
# Every key of a job YAML and what it may hold: checked in full before Spark starts or data is read.
JOB_CONSTRAINTS = {
    "experiment_name": [_NAME], "tracking_uri": [NONE, _NAME], "spark": [NONE, DICT], "register": [NONE, DICT],
    "automl": [DICT], "show_output": [BOOL],
}
SPARK_CONSTRAINTS = {"master": [NONE, _LOCAL_MASTER], "app_name": [NONE, _NAME],
                     "log_level": [NONE, Predicate(lambda v: v in ("ALL", "DEBUG", "INFO", "WARN", "ERROR", "FATAL",
                                                                   "OFF"), "a Spark log level such as 'WARN'")]}
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


def _read_yaml(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as err:
        raise ConfigError(f"Job config {path} cannot be read: {err.strerror}. Pass --config PATH to a YAML file "
                          "(see conf/base/).") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"Job config {path} is not valid YAML: {err}") from None


def load_job_config(path: str) -> JobConfig:
    """safe_load + validation of every key, with the same message shape as AutoMLConfig."""
    raw = _read_yaml(path)
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
    from .config import PARAMETER_CONSTRAINTS
    from .forecasting.settings import ForecastingParameters

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
    """jobs/train.py's entry point (spark-submit): the train subcommand alone."""
    return main(["train", *(sys.argv[1:] if argv is None else argv)])


def _train(args: argparse.Namespace) -> int:
    from .config import AutoMLConfig
    from .experiment import Experiment

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
        session = default_session(app_name)
    else:
        master = str(settings.get("master", "local[*]"))
        if not master.startswith("local["):
            raise ConfigError(f"spark.master {master!r} in the job config: only a local[N] master can be set "
                              "there. Give a cluster master to spark-submit (--master) instead.")
        session = default_session(app_name, cores=master[len("local["):-1])
    session.sparkContext.setLogLevel(settings.get("log_level", "WARN"))  # a job's output is its own lines
    return session


# ---- score -------------------------------------------------------------------------------------
_TABLE = Predicate(lambda v: isinstance(v, str) and bool(v.strip()), "a path, a table name or bundled:<name>")
SCORE_CONSTRAINTS = {
    "model": [_NAME], "tracking_uri": [NONE, _NAME], "registry_uri": [NONE, _NAME], "input": [_TABLE],
    "output": [NONE, _NAME], "output_table": [NONE, _NAME], "probabilities": [BOOL],
    "mode": [Predicate(lambda v: v in ("error", "overwrite", "append"), "one of 'error', 'overwrite', 'append'")],
    "spark": [NONE, DICT],
}
SCORE_DEFAULTS = {"probabilities": False, "mode": "error"}


def load_score_config(path: str) -> dict[str, Any]:
    """A score job: which registered model, which rows, where the predictions go."""
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"Score job config {path} must be a YAML mapping; got {type(raw).__name__}.")
    unknown = sorted(set(raw) - set(SCORE_CONSTRAINTS))
    if unknown:
        raise ConfigError(f"Unknown key(s) {unknown} in score job config {path}. Valid keys: {sorted(SCORE_CONSTRAINTS)}.")
    values = {**SCORE_DEFAULTS, **{k: raw.get(k) for k in SCORE_CONSTRAINTS if k in raw}}
    for key in ("model", "input"):
        if key not in raw:
            raise ConfigError(f"Score job config {path} needs {key!r}.")
    validate_parameters(f"the score job config {path}", {k: values.get(k) for k in SCORE_CONSTRAINTS},
                        SCORE_CONSTRAINTS)
    if (values.get("output") is None) == (values.get("output_table") is None):
        raise ConfigError(f"Score job config {path} needs exactly one of 'output' (a Parquet folder) and "
                          "'output_table' (a table name).")
    _check_section(path, "spark", raw.get("spark") or {}, SPARK_CONSTRAINTS)
    check_uri("tracking_uri", values.get("tracking_uri"))
    check_uri("registry_uri", values.get("registry_uri"))
    return values


def _score(args: argparse.Namespace) -> int:
    from .data.ingest import to_spark
    from .scoring import score_spark

    import os

    job = load_score_config(args.config)
    if job["mode"] == "error" and job.get("output") and os.path.exists(job["output"]):
        raise ConfigError(f"The score job's output {job['output']!r} exists. Set mode: overwrite (or append) in "
                          f"{args.config}, or choose another output.")
    spark = job_session(job.get("spark") or {})
    rows = to_spark(spark, resolve_data(job["input"]), "input")
    scored = score_spark(spark, rows, job["model"], tracking_uri=job.get("tracking_uri"),
                         registry_uri=job.get("registry_uri"), probabilities=job["probabilities"])
    writer = scored.write.mode(job["mode"])
    if job.get("output"):
        writer.parquet(job["output"])
        written, where = spark.read.parquet(job["output"]), job["output"]
    else:
        writer.saveAsTable(job["output_table"])
        written, where = spark.table(job["output_table"]), f"table {job['output_table']}"
    print(f"Scored {written.count()} rows with {job['model']} -> {where}")
    return 0


# ---- the command ----------------------------------------------------------------------------------
EXIT_CODES = (("ConfigError", 2), ("DataError", 2), ("NoTrialSucceededError", 3), ("TrackingError", 4),
              ("AutoMLError", 5))
COMMANDS = {"train": _train, "score": _score}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spark-automl", description="Spark-native AutoML jobs: train a model, "
                                     "score rows with a registered one.")
    parser.add_argument("--verbose", action="store_true", help="print the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    train_cmd = sub.add_parser("train", help="run AutoML from a YAML job config and register the best model")
    train_cmd.add_argument("--config", required=True, help="YAML job config (see conf/base/train.yaml)")
    train_cmd.add_argument("--timeout-minutes", type=float, help="override automl.experiment_timeout_minutes")
    train_cmd.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                           help="print the traceback of an error")
    score_cmd = sub.add_parser("score", help="score a table, path or Parquet folder with a registered model")
    score_cmd.add_argument("--config", required=True, help="YAML score config (see conf/base/score.yaml)")
    score_cmd.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                           help="print the traceback of an error")
    return parser


def exit_code(err: BaseException) -> int:
    if isinstance(err, KeyboardInterrupt):
        return 130
    names = {c.__name__ for c in type(err).__mro__}
    return next((code for name, code in EXIT_CODES if name in names), 1)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (Exception, KeyboardInterrupt) as err:  # noqa: BLE001 - the command's whole error report
        code = exit_code(err)
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        print(f"spark-automl {args.command}: {type(err).__name__}: {redact(err)}"
              + ("" if code != 1 else " (an unexpected error: --verbose prints the traceback)"), file=sys.stderr)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
