"""One small exception hierarchy so callers can catch what they can fix.

Every message names the parameter or column, the value received and the valid
choices or the fix, so a user never has to read our source to act on it.
"""

from __future__ import annotations


class AutoMLError(Exception):
    """Base of every error raised on purpose by spark_automl.

    `run_id`: the parent run an experiment error belongs to, when it got that far
    (re-attach with Experiment.get_run(err.run_id))."""

    run_id: str | None = None


class ConfigError(AutoMLError, ValueError):
    """An AutoMLConfig / job configuration parameter is invalid."""


class DataError(AutoMLError, ValueError):
    """The training, validation or test data cannot be used as given."""


class TrialError(AutoMLError):
    """A single trial failed; recorded on its child run, never fatal to the experiment."""


class TrialTimeoutError(TrialError, TimeoutError):
    """A trial ran past iteration_timeout_minutes."""


class NoTrialSucceededError(AutoMLError):
    """The search finished without one successful trial, so there is no model to return."""


class ExportError(AutoMLError):
    """A step of the final model has no exact export (ONNX) equivalent."""


class CanceledError(AutoMLError):
    """The run was canceled (run.cancel()) before any trial finished: there is no model to return."""


class ExplanationBudgetError(AutoMLError, TimeoutError):
    """An explanation cannot be made in the time the experiment has left; run.explain() makes it later."""
