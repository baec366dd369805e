"""The Databricks asset bundle (databricks.yml): every job loads as Jobs API settings with
databricks-sdk, with no field the API would drop, and every task runs an entry point and a job
config that exist and validate."""

from __future__ import annotations

import configparser
import copy
import re
from pathlib import Path

import pytest
import yaml

from spark_automl.cli import COMMANDS, MODEL_JOBS, load_job_config, load_model_job_config

REPO = Path(__file__).resolve().parents[1]
_REF = re.compile(r"\$\{(var\.[A-Za-z_]+|workspace\.file_path)\}")


def _console_scripts() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    return {line.split("=")[0].strip() for line in cfg["options.entry_points"]["console_scripts"].splitlines() if line}


def _resolve(value, variables: dict):
    """${var.x} -> the variable's default, ${workspace.file_path} -> this checkout (what the bundle syncs)."""
    if isinstance(value, dict):
        return {k: _resolve(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, variables) for v in value]
    if isinstance(value, str):
        whole = _REF.fullmatch(value)
        if whole and whole.group(1).startswith("var."):
            return variables[whole.group(1)[4:]]
        return _REF.sub(lambda m: str(REPO) if m.group(1) == "workspace.file_path" else str(variables[m.group(1)[4:]]),
                        value)
    return value


def _drop_empty(value):
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def bundle_problems(doc: dict) -> list[str]:
    from databricks.sdk.service.jobs import JobSettings

    problems = []
    undefined = sorted({m.group(1) for m in _REF.finditer(yaml.safe_dump(doc))
                        if m.group(1).startswith("var.") and m.group(1)[4:] not in doc.get("variables", {})})
    if undefined:
        return [f"undefined variable(s) {undefined}"]
    variables = {k: v.get("default") for k, v in doc.get("variables", {}).items()}
    scripts = _console_scripts()
    for key, raw in doc["resources"]["jobs"].items():
        job = _resolve(raw, variables)
        settings = JobSettings.from_dict(job)
        if _drop_empty(settings.as_dict()) != _drop_empty(job):  # from_dict silently drops unknown fields
            problems.append(f"job {key}: a field the Jobs API does not know (or a wrong type)")
        clusters = {c.job_cluster_key for c in settings.job_clusters or []}
        keys = {t.task_key for t in settings.tasks}
        for task in settings.tasks:
            where = f"job {key} task {task.task_key}"
            problems += [f"{where}: depends on unknown task {d.task_key}" for d in task.depends_on or []
                         if d.task_key not in keys]
            if task.job_cluster_key and task.job_cluster_key not in clusters:
                problems.append(f"{where}: unknown job cluster {task.job_cluster_key}")
            wheel = task.python_wheel_task
            if wheel is None:
                problems.append(f"{where}: not a wheel task")
                continue
            if wheel.package_name.replace("-", "_") != "spark_automl" or wheel.entry_point not in scripts:
                problems.append(f"{where}: entry point {wheel.package_name}:{wheel.entry_point} does not exist "
                                f"(console scripts: {sorted(scripts)})")
                continue
            command, *args = wheel.parameters
            if command not in COMMANDS or "--config" not in args:
                problems.append(f"{where}: {command!r} is not a spark-automl subcommand {sorted(COMMANDS)} with --config")
                continue
            config = Path(args[args.index("--config") + 1])
            if not config.is_file():
                problems.append(f"{where}: job config {config} does not exist")
                continue
            load_job_config(str(config)) if command == "train" else load_model_job_config(str(config), command)
    return problems


@pytest.fixture()
def bundle() -> dict:
    return yaml.safe_load((REPO / "databricks.yml").read_text())


def test_the_shipped_bundle_has_valid_jobs_and_existing_entry_points(bundle):
    assert bundle_problems(bundle) == []
    jobs = bundle["resources"]["jobs"]
    weekly = [t["task_key"] for t in jobs["weekly_retrain"]["tasks"]]
    assert weekly == ["train", "promote"] and jobs["weekly_retrain"]["tasks"][1]["depends_on"] == [{"task_key": "train"}]
    commands = {t["python_wheel_task"]["parameters"][0] for j in jobs.values() for t in j["tasks"]}
    assert commands == set(COMMANDS) == {"train", *MODEL_JOBS}  # every job of the CLI is scheduled


@pytest.mark.parametrize("mutate, fragment", [
    (lambda b: b["resources"]["jobs"]["daily_batch"].update(shedule={"quartz_cron_expression": "0 0 * * * ?"}),
     "a field the Jobs API does not know"),
    (lambda b: b["resources"]["jobs"]["weekly_retrain"]["tasks"][0]["python_wheel_task"].update(entry_point="automl"),
     "entry point spark_automl:automl does not exist"),
    (lambda b: b["resources"]["jobs"]["daily_batch"]["tasks"][0]["python_wheel_task"]["parameters"].__setitem__(0, "serve"),
     "'serve' is not a spark-automl subcommand"),
    (lambda b: b["resources"]["jobs"]["daily_batch"]["tasks"][1]["python_wheel_task"]["parameters"].__setitem__(
        2, "${workspace.file_path}/conf/databricks/missing.yaml"), "missing.yaml does not exist"),
    (lambda b: b["resources"]["jobs"]["weekly_retrain"]["tasks"][1]["depends_on"][0].update(task_key="trian"),
     "depends on unknown task trian"),
    (lambda b: b["resources"]["jobs"]["weekly_retrain"]["job_clusters"][0]["new_cluster"].update(
        spark_version="${var.runtime}"), "undefined variable"),
])
def test_a_broken_bundle_is_caught(bundle, mutate, fragment):
    broken = copy.deepcopy(bundle)
    mutate(broken)
    assert any(fragment in p for p in bundle_problems(broken)), bundle_problems(broken)
