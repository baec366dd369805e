"""Optional features and the install extra each needs.

The core install trains, tracks and scores classification and regression. Forecasting, ONNX export
and SHAP for non-LightGBM/XGBoost trees pull large stacks (statsforecast + numba, Prophet + cmdstan,
the ONNX runtime, shap + numba), so they are extras; a feature asked for without its extra fails
before any work with an error that names the `pip install` line.
"""

from __future__ import annotations

import importlib.util

from .errors import ConfigError

# extra -> the top-level modules it installs (the names in setup.cfg's extras_require)
EXTRAS: dict[str, tuple[str, ...]] = {
    "forecast": ("statsforecast", "statsmodels", "prophet", "holidays"),
    "onnx": ("onnx", "skl2onnx", "onnxmltools", "onnxruntime"),
    "explain": ("shap",),
    "catboost": ("catboost",),
}


def missing_modules(extra: str) -> list[str]:
    """The modules of `extra` that cannot be imported here (found without importing them)."""
    return [m for m in EXTRAS[extra] if importlib.util.find_spec(m) is None]


def has_extra(extra: str) -> bool:
    return not missing_modules(extra)


def require_extra(extra: str, feature: str) -> None:
    """Raise ConfigError naming the extra when `feature` needs modules that are not installed."""
    missing = missing_modules(extra)
    if missing:
        raise ConfigError(f"{feature} needs the '{extra}' extra, which is not installed (missing: "
                          f"{', '.join(missing)}). Install it with: pip install 'spark-automl[{extra}]' "
                          "(or 'spark-automl[all]').")
