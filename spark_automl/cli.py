"""Job entry points (the `spark-automl` command, spark-submit, workflows): YAML config -> library
calls, no other logic.

    spark-automl train --config conf/base/train.yaml        (spark-submit jobs/train.py --config ...)
    spark-automl promote --config conf/base/promote.yaml
    spark-automl score --config conf/base/score.yaml
    spark-automl forecast --config conf/base/forecast.yaml
    spark-automl cancel --config conf/base/train.yaml --run-id RUN_ID   (a train job running elsewhere)

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
from .tracking import cancel_poll_seconds, check_uri, redact

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


def _load_yaml(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except OSError as err:
        raise ConfigError(f"Job config {path} cannot be read: {err.strerror}. Pass --config PATH to a YAML file "
                          "(see conf/base/).") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"Job config {path} is not valid YAML: {err}") from None


def local_overlay(path: str) -> str | None:
    """conf/local/<name> beside conf/base/<name>: the git-ignored, per-machine settings (a tracking
    server, a cluster's tables) laid over the shared ones."""
    import os

    folder, name = os.path.split(os.path.abspath(path))
    if os.path.basename(folder) != "base":
        return None
    overlay = os.path.join(os.path.dirname(folder), "local", name)
    return overlay if os.path.isfile(overlay) else None


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in over.items()}}
    return over


def _read_yaml(path: str) -> Any:
    """The job YAML, with its conf/local overlay merged in key by key; validated afterwards as one."""
    raw = _load_yaml(path)
    overlay = local_overlay(path)
    if overlay is None:
        return raw
    extra = _load_yaml(overlay)
    if not isinstance(extra, dict) or not isinstance(raw, dict):
        raise ConfigError(f"Job config {path} and its local overlay {overlay} must both be YAML mappings.")
    print(f"Job config {path} with the local overlay {overlay}")
    return _merge(raw, extra)


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


# ---- score, forecast, promote: jobs over a registered model ----------------------------------------
_TABLE = Predicate(lambda v: isinstance(v, str) and bool(v.strip()), "a path, a table name or bundled:<name>")
_MODE = Predicate(lambda v: v in ("error", "overwrite", "append"), "one of 'error', 'overwrite', 'append'")
_MARGIN = Predicate(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0,
                    "a number >= 0 (in the metric's units)")
_VERSION = Predicate(lambda v: isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip() != "",
                     "a version number, an alias or 'latest'")
_STORES = {"tracking_uri": [NONE, _NAME], "registry_uri": [NONE, _NAME], "spark": [NONE, DICT]}
_OUTPUT = {"output": [NONE, _NAME], "output_table": [NONE, _NAME], "mode": [_MODE]}


@dataclass(frozen=True)
class ModelJob:
    """What a job YAML over a registered model may hold: its keys, defaults and required keys."""
    kind: str
    constraints: dict[str, list]
    defaults: dict[str, Any]
    required: tuple[str, ...]
    writes: bool  # has an output / output_table


MODEL_JOBS = {
    "score": ModelJob("score", {"model": [_NAME], "input": [_TABLE], "probabilities": [BOOL], **_OUTPUT, **_STORES},
                      {"probabilities": False, "mode": "error"}, ("model", "input"), True),
    "forecast": ModelJob("forecast", {"model": [_NAME], "input": [NONE, _TABLE], **_OUTPUT, **_STORES},
                         {"mode": "error"}, ("model",), True),
    "promote": ModelJob("promote", {"model_name": [_NAME], "challenger": [_VERSION], "alias": [_NAME],
                                    "data": [_TABLE], "label_column_name": [NONE, _NAME], "metric": [NONE, _NAME],
                                    "margin": [_MARGIN], "experiment_name": [_NAME], **_STORES},
                        {"challenger": "latest", "alias": "champion", "margin": 0.0,
                         "experiment_name": "spark-automl-promotions"}, ("model_name", "data"), False),
}


def load_model_job_config(path: str, kind: str) -> dict[str, Any]:
    """A score / forecast / promote job config, checked in full before Spark starts."""
    spec = MODEL_JOBS[kind]
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{kind.capitalize()} job config {path} must be a YAML mapping; got {type(raw).__name__}.")
    unknown = sorted(set(raw) - set(spec.constraints))
    if unknown:
        raise ConfigError(f"Unknown key(s) {unknown} in {kind} job config {path}. Valid keys: {sorted(spec.constraints)}.")
    for key in spec.required:
        if key not in raw:
            raise ConfigError(f"{kind.capitalize()} job config {path} needs {key!r}.")
    values = {**spec.defaults, **raw}
    validate_parameters(f"the {kind} job config {path}", {k: values.get(k) for k in spec.constraints}, spec.constraints)
    if spec.writes and (values.get("output") is None) == (values.get("output_table") is None):
        raise ConfigError(f"{kind.capitalize()} job config {path} needs exactly one of 'output' (a Parquet folder) "
                          "and 'output_table' (a table name).")
    _check_section(path, "spark", raw.get("spark") or {}, SPARK_CONSTRAINTS)
    check_uri("tracking_uri", values.get("tracking_uri"))
    check_uri("registry_uri", values.get("registry_uri"))
    return values


def _check_output(job: dict[str, Any], config_path: str) -> None:
    import os

    if job["mode"] == "error" and job.get("output") and os.path.exists(job["output"]):
        raise ConfigError(f"The job's output {job['output']!r} exists. Set mode: overwrite (or append) in "
                          f"{config_path}, or choose another output.")


def _write(spark, frame, job: dict[str, Any]) -> tuple[int, str]:
    """Parquet folder or table, in the job's mode; returns (rows written, where)."""
    writer = frame.write.mode(job["mode"])
    if job.get("output"):
        writer.parquet(job["output"])
        return spark.read.parquet(job["output"]).count(), job["output"]
    writer.saveAsTable(job["output_table"])
    return spark.table(job["output_table"]).count(), f"table {job['output_table']}"


def _score(args: argparse.Namespace) -> int:
    from .data.ingest import to_spark
    from .scoring import score_spark

    job = load_model_job_config(args.config, "score")
    _check_output(job, args.config)
    spark = job_session(job.get("spark") or {})
    rows = to_spark(spark, resolve_data(job["input"]), "input")
    scored = score_spark(spark, rows, job["model"], tracking_uri=job.get("tracking_uri"),
                         registry_uri=job.get("registry_uri"), probabilities=job["probabilities"])
    count, where = _write(spark, scored, job)
    print(f"Scored {count} rows with {job['model']} -> {where}")
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from .data.ingest import to_spark
    from .scoring import forecast_spark

    job = load_model_job_config(args.config, "forecast")
    _check_output(job, args.config)
    spark = job_session(job.get("spark") or {})
    future = None if job.get("input") is None else to_spark(spark, resolve_data(job["input"]), "input")
    forecasts = forecast_spark(spark, future, job["model"], tracking_uri=job.get("tracking_uri"),
                               registry_uri=job.get("registry_uri"))
    count, where = _write(spark, forecasts, job)
    print(f"Forecast {count} rows with {job['model']} ("
          + ("the rows of the input" if future is not None else "the next horizon of every series") + f") -> {where}")
    return 0


def _promote(args: argparse.Namespace) -> int:
    from .data.ingest import to_spark
    from .promote import promote

    job = load_model_job_config(args.config, "promote")
    spark = job_session(job.get("spark") or {})
    data = to_spark(spark, resolve_data(job["data"]), "data")
    decision = promote(spark, data, job["model_name"], challenger=job["challenger"], alias=job["alias"],
                       metric=job.get("metric"), margin=float(job["margin"]),
                       label_column_name=job.get("label_column_name"), tracking_uri=job.get("tracking_uri"),
                       registry_uri=job.get("registry_uri"), experiment_name=job["experiment_name"])
    holder = decision.challenger_version if decision.promoted else decision.champion_version
    print(f"Promotion of {decision.model_name} v{decision.challenger_version}: {decision.decision.upper()} "
          f"({decision.reason}). models:/{decision.model_name}@{decision.alias} is version {holder}. "
          f"Decision run: {decision.run_id}")
    return 0


def _cancel(args) -> int:
    """Cancel a training run that another process (a scheduled job, a notebook) is running."""
    from . import Experiment

    job = load_job_config(args.config)
    run = Experiment(job.experiment_name, tracking_uri=job.tracking_uri).get_run(args.run_id)
    if run.status != "Running":
        print(f"Run {args.run_id} is {run.status}: nothing to cancel.")
        return 0
    run.cancel()
    print(f"Cancel requested for run {args.run_id}: its driver stops the search within "
          f"~{cancel_poll_seconds():.0f}s, then refits and logs the best model so far (status Canceled).")
    return 0


# ---- the command ----------------------------------------------------------------------------------
EXIT_CODES = (("ConfigError", 2), ("DataError", 2), ("NoTrialSucceededError", 3), ("TrackingError", 4),
              ("AutoMLError", 5))
COMMANDS = {"train": _train, "score": _score, "forecast": _forecast, "promote": _promote}  # the schedulable jobs
RUN_COMMANDS = {"cancel": _cancel}  # acting on a run in progress: by hand, never scheduled


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spark-automl", description="Spark-native AutoML jobs: train a model, "
                                     "promote it, score rows or publish forecasts with the registered one.")
    parser.add_argument("--verbose", action="store_true", help="print the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    train_cmd = sub.add_parser("train", help="run AutoML from a YAML job config and register the best model")
    train_cmd.add_argument("--config", required=True, help="YAML job config (see conf/base/train.yaml)")
    train_cmd.add_argument("--timeout-minutes", type=float, help="override automl.experiment_timeout_minutes")
    train_cmd.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                           help="print the traceback of an error")
    for name, help_text, config_help in (
            ("score", "score a table, path or Parquet folder with a registered model", None),
            ("forecast", "publish the next horizon of every series with a registered forecaster", None),
            ("promote", "champion/challenger: move the alias to the new version if it wins", None),
            ("cancel", "cancel a running training run (from any process)",
             "the train job's YAML config (its experiment and store)")):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--config", required=True,
                         help=config_help or f"YAML {name} config (see conf/base/{name}.yaml)")
        cmd.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="print the traceback of an error")
        if name == "cancel":
            cmd.add_argument("--run-id", required=True, help="the parent run id the train job printed")
    return parser


def exit_code(err: BaseException) -> int:
    if isinstance(err, KeyboardInterrupt):
        return 130
    names = {c.__name__ for c in type(err).__mro__}
    return next((code for name, code in EXIT_CODES if name in names), 1)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {**COMMANDS, **RUN_COMMANDS}[args.command](args)
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
