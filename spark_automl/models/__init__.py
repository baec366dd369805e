"""Model registry; importing the family modules registers their specs."""

from . import boosting, kernel, linear, trees  # noqa: F401  (registration side effect)
from .registry import REGISTRY, ModelRegistry, ModelSpec
from .space import Param
from .wrappers import LabelEncodedClassifier

__all__ = ["REGISTRY", "ModelRegistry", "ModelSpec", "Param", "LabelEncodedClassifier"]
