"""The pyfunc face of a logged classifier: `predict(rows, params={"predict_method": "predict_proba"})`
returns one probability column per class, where MLflow's own sklearn pyfunc fixes the method when the
model is saved. The model stays an ordinary sklearn-flavor model (mlflow.sklearn.load_model reads
it); only the MLmodel's python_function loader points here. This module is in the model's code, so
serving needs nothing but the model folder.
"""

from __future__ import annotations

from typing import Any

PREDICT_METHOD = "predict_method"
PREDICT_METHODS = ("predict", "predict_proba")
LOADER_MODULE = __name__


class ClassifierServing:
    """predict(): labels by default; class probabilities (columns named by class) on request."""

    def __init__(self, model: Any):
        self.model = model

    def get_raw_model(self) -> Any:
        return self.model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import pandas as pd

        method = (params or {}).get(PREDICT_METHOD) or "predict"
        if method not in PREDICT_METHODS:
            from .errors import ConfigError

            raise ConfigError(f"params['{PREDICT_METHOD}'] must be one of {PREDICT_METHODS}; got {method!r}.")
        if method == "predict":
            return self.model.predict(data)
        proba = self.model.predict_proba(data)
        return pd.DataFrame(proba, columns=[str(c) for c in self.model.classes_])


def _load_pyfunc(path: str) -> ClassifierServing:
    """MLflow's pyfunc entry point (python_function.loader_module): the sklearn model, wrapped."""
    import mlflow.sklearn

    return ClassifierServing(mlflow.sklearn._load_pyfunc(path).get_raw_model())


def serve_probabilities(model_dir: str) -> None:
    """Point a saved sklearn model's pyfunc loader at ClassifierServing."""
    from mlflow.models import Model
    from mlflow.pyfunc import FLAVOR_NAME

    import os

    mlmodel = Model.load(model_dir)
    mlmodel.flavors[FLAVOR_NAME]["loader_module"] = LOADER_MODULE
    mlmodel.save(os.path.join(model_dir, "MLmodel"))
