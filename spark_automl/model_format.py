"""Which serialization a logged scikit-learn model gets: skops where every object in it is of a known,
safe library (so loading the model cannot run arbitrary code), cloudpickle otherwise.

skops records every type it meets; a model whose types all come from TRUSTED_MODULES is saved with
exactly those types trusted, after a round trip that must reproduce its predictions on the example.
Anything else (a user's own estimator registered at runtime, a function object) keeps cloudpickle, and
the run says why. The verified skops bytes are what gets written: MLflow's own skops save would dump
and load the model once more (for an ensemble of five 200 MB forests, ~20 s each).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

# catboost: its models restore from CatBoost's own binary format, not from a pickle
TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.", "lightgbm.", "xgboost.", "catboost.", "collections.",
                   "builtins.", "spark_automl.")
SKOPS, CLOUDPICKLE = "skops", "cloudpickle"
SKOPS_FILE = "model.skops"


@dataclass(frozen=True)
class ModelFormat:
    name: str  # SKOPS or CLOUDPICKLE
    trusted: list[str] | None  # the types a skops load must trust
    why: str
    data: bytes | None = None  # the verified skops bytes


def choose_format(model: Any, example: Any = None) -> ModelFormat:
    import numpy as np

    try:
        import skops.io as sio
    except ImportError:
        return ModelFormat(CLOUDPICKLE, None, "skops is not installed")
    try:
        data = sio.dumps(model)
        types = sio.get_untrusted_types(data=data)
    except Exception as err:  # noqa: BLE001 - any object skops cannot write
        return ModelFormat(CLOUDPICKLE, None, f"skops cannot write it ({type(err).__name__})")
    foreign = [t for t in types if not t.startswith(TRUSTED_MODULES)]
    if foreign:
        return ModelFormat(CLOUDPICKLE, None, f"it holds types outside the trusted libraries: {foreign[:3]}")
    try:
        back = sio.loads(data, trusted=types)
        if example is not None:
            predict = "predict_proba" if hasattr(model, "predict_proba") else "predict"
            same = np.allclose(np.asarray(getattr(back, predict)(example), dtype=float),
                               np.asarray(getattr(model, predict)(example), dtype=float), equal_nan=True)
            if not same:
                return ModelFormat(CLOUDPICKLE, None, "its skops copy predicts differently")
    except Exception as err:  # noqa: BLE001
        return ModelFormat(CLOUDPICKLE, None, f"its skops copy does not load ({type(err).__name__})")
    return ModelFormat(SKOPS, list(types), "every type is from a trusted library", data)


def swap_in_skops(model_dir: str, chosen: ModelFormat) -> None:
    """Turn an MLflow sklearn model saved as a pickle into the skops model MLflow would have written:
    the verified bytes replace the pickle, and the MLmodel file names the skops file, its format and
    its trusted types (what mlflow.sklearn.load_model reads)."""
    from mlflow.models import Model
    from mlflow.pyfunc import FLAVOR_NAME as PYFUNC

    mlmodel = Model.load(model_dir)
    sklearn_conf = mlmodel.flavors["sklearn"]
    old = sklearn_conf["pickled_model"]
    with open(os.path.join(model_dir, SKOPS_FILE), "wb") as fh:
        fh.write(chosen.data)
    os.remove(os.path.join(model_dir, old))
    sklearn_conf.update(pickled_model=SKOPS_FILE, serialization_format=SKOPS, skops_trusted_types=chosen.trusted)
    if PYFUNC in mlmodel.flavors:
        mlmodel.flavors[PYFUNC]["model_path"] = SKOPS_FILE
    mlmodel.save(os.path.join(model_dir, "MLmodel"))
