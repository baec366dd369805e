"""The MLflow pyfunc of a forecasting model, in its own module: importing mlflow costs seconds, and
only logging or loading a model needs it."""

from __future__ import annotations

import mlflow.pyfunc
import pandas as pd

from .model import HISTORY_ARTIFACT, ForecastingModel


class ForecastPyfunc(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc wrapper: predict(X_future) returns the forecast table; a label column in the input gives
    actuals as context. A large-panel model's stored history is a model artifact, found again wherever the
    model is loaded."""

    def __init__(self, fitted: ForecastingModel):
        self.fitted = fitted

    @property
    def artifacts(self) -> dict[str, str] | None:
        return {HISTORY_ARTIFACT: self.fitted.store.path} if self.fitted.store is not None else None

    def load_context(self, context) -> None:
        if self.fitted.store is not None and HISTORY_ARTIFACT in (context.artifacts or {}):
            self.fitted.store = self.fitted.store.at(context.artifacts[HISTORY_ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:  # noqa: ARG002
        """Rows that carry the label column are actuals (context) where it is set, forecasts where it is NaN."""
        label = self.fitted.schema.label
        if label in model_input.columns:
            return self.fitted.forecast(model_input.drop(columns=[label]), model_input[label].to_numpy())
        return self.fitted.forecast(model_input)
