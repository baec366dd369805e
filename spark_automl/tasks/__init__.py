"""Task strategies, by AutoMLConfig.task: the orchestrator looks the task up here."""

from __future__ import annotations

import importlib

from .base import Problem, RunRecord, Task


# AutoMLConfig.task -> "module:class" (imported lazily: forecasting pulls in its own stack)
TASKS: dict[str, str] = {
    "classification": "tabular:TabularTask",
    "regression": "tabular:TabularTask",
    "forecasting": "forecasting:ForecastingTask",
}


def task_for(name: str) -> Task:
    module, cls = TASKS[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)()


__all__ = ["Problem", "RunRecord", "Task", "task_for"]
