"""Which serialization a logged scikit-learn model gets: skops where every object in it is of a known,
safe library (so loading the model cannot run arbitrary code), cloudpickle otherwise.

skops records every type it meets; a model whose types all come from TRUSTED_MODULES is saved with
exactly those types trusted, after a round trip that must reproduce its predictions on the example.
Anything else (a user's own estimator registered at runtime, a function object) keeps cloudpickle, and
the run says why.
"""

from __future__ import annotations

from typing import Any

TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.", "lightgbm.", "xgboost.", "collections.", "builtins.",
                   "spark_automl.")
SKOPS, CLOUDPICKLE = "skops", "cloudpickle"


def choose_format(model: Any, example: Any = None) -> tuple[str, list[str] | None, str]:
    """(format, the trusted types for skops, why)."""
    import numpy as np

    try:
        import skops.io as sio
    except ImportError:
        return CLOUDPICKLE, None, "skops is not installed"
    try:
        data = sio.dumps(model)
        types = sio.get_untrusted_types(data=data)
    except Exception as err:  # noqa: BLE001 - any object skops cannot write
        return CLOUDPICKLE, None, f"skops cannot write it ({type(err).__name__})"
    foreign = [t for t in types if not t.startswith(TRUSTED_MODULES)]
    if foreign:
        return CLOUDPICKLE, None, f"it holds types outside the trusted libraries: {foreign[:3]}"
    try:
        back = sio.loads(data, trusted=types)
        if example is not None:
            predict = "predict_proba" if hasattr(model, "predict_proba") else "predict"
            same = np.allclose(np.asarray(getattr(back, predict)(example), dtype=float),
                               np.asarray(getattr(model, predict)(example), dtype=float), equal_nan=True)
            if not same:
                return CLOUDPICKLE, None, "its skops copy predicts differently"
    except Exception as err:  # noqa: BLE001
        return CLOUDPICKLE, None, f"its skops copy does not load ({type(err).__name__})"
    return SKOPS, list(types), "every type is from a trusted library"
