"""Model registry; importing the family modules registers their specs."""

from . import boosting, kernel, linear, statistical, trees  # noqa: F401  (registration side effect)
from .registry import LEARNER, REGISTRY, STATISTICAL, ModelRegistry, ModelSpec
from .space import Param
from .wrappers import (CategoryCodes, LabelEncodedClassifier, LogTarget, RareClassCalibratedClassifierCV,
                       TargetEncoded)

__all__ = ["LEARNER", "STATISTICAL", "REGISTRY", "ModelRegistry", "ModelSpec", "Param", "CategoryCodes",
           "LabelEncodedClassifier", "LogTarget", "RareClassCalibratedClassifierCV", "TargetEncoded"]
