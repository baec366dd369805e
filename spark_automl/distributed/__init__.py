"""Large-data mode: featurization and the final refit in Spark, on every row."""

from .learners import LEARNERS, DistributedLearner, choose_learner
from .refit import refit_on_all_rows

__all__ = ["LEARNERS", "DistributedLearner", "choose_learner", "refit_on_all_rows"]
