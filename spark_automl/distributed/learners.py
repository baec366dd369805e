"""The distributed learners a winner is refit with on all rows: a registry of small specs.

Each maps the hyperparameters a model family won the search with onto a learner that trains
on a Spark DataFrame, and turns the trained model into a local, scikit-learn-compatible
estimator (an XGBoost booster, a linear model's coefficients). So the logged model is the
same kind of Pipeline for both kinds of refit: MLflow scoring, score_spark, ONNX and
explanations need no Spark model and no cluster jars.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
from pyspark.sql import DataFrame

from .features import FEATURES, LABEL, WEIGHT

log = logging.getLogger(__name__)


@dataclass
class FitRequest:
    """One refit: the featurized rows (features, label codes, weight) and the winning params."""

    frame: DataFrame
    model: str
    params: Mapping[str, Any]
    task: str
    n_classes: int
    n_rows: int
    seed: int
    num_workers: int
    weighted: bool
    # the searched sample (features, label codes): a margin classifier is calibrated on it
    sample_X: np.ndarray | None = None
    sample_y: np.ndarray | None = None
    class_counts: Mapping[int, int] = field(default_factory=dict)  # label code -> training rows


@dataclass(frozen=True)
class DistributedLearner:
    name: str  # what the leaderboard shows, e.g. "xgboost.spark"
    models: Mapping[str, tuple[str, ...]]  # registry model name -> tasks it refits
    fit: Callable[[FitRequest], Any]  # -> fitted local estimator (label codes for classification)
    supports: Callable[[FitRequest], str | None] = lambda req: None  # None, or why this request is not served
    available: Callable[[Any], str | None] = lambda spark: None  # None, or what the cluster lacks
    notes: str = ""


# ---- xgboost.spark --------------------------------------------------------------------------
_XGB_KEYS = ("n_estimators", "max_depth", "learning_rate", "subsample", "colsample_bytree", "min_child_weight",
             "reg_alpha", "reg_lambda")


def xgboost_params(model: str, params: Mapping[str, Any], n_features: int = 0) -> dict[str, Any]:
    """A model family's winning hyperparameters as XGBoost's, for the same kind of trees."""
    p = dict(params)
    if model in ("XGBoostClassifier", "XGBoostRegressor"):
        return {k: p[k] for k in _XGB_KEYS if k in p}
    if model == "LightGBM":  # leaf-wise growth, as LightGBM grows its trees
        out = {"n_estimators": p.get("n_estimators", 100), "learning_rate": p.get("learning_rate", 0.1),
               "grow_policy": "lossguide", "max_depth": 0, "max_leaves": p.get("num_leaves", 31),
               "reg_lambda": p.get("reg_lambda", 0.0), "reg_alpha": p.get("reg_alpha", 0.0)}
        out.update({k: p[k] for k in ("subsample", "colsample_bytree") if k in p})
        return out
    if model == "GradientBoosting":  # scikit-learn's histogram GBM: leaf-wise, max_leaf_nodes leaves
        return {"n_estimators": p.get("max_iter", 100), "learning_rate": p.get("learning_rate", 0.1),
                "grow_policy": "lossguide", "max_depth": 0, "max_leaves": p.get("max_leaf_nodes", 31),
                "reg_lambda": p.get("l2_regularization", 0.0)}
    if model in ("RandomForest", "ExtremeRandomTrees"):  # XGBoost's random-forest mode: one round of a forest
        return {"n_estimators": 1, "num_parallel_tree": min(int(p.get("n_estimators", 100)), RF_MAX_TREES),
                "learning_rate": 1.0,
                "subsample": RF_ROW_SUBSAMPLE, "colsample_bynode": float(p.get("max_features", 1.0)),
                "max_depth": RF_MAX_DEPTH, "min_child_weight": float(p.get("min_samples_leaf", 1)),
                "reg_lambda": RF_LAMBDA}
    raise KeyError(model)


RF_ROW_SUBSAMPLE = 0.632  # a bootstrap sample's share of distinct rows
# scikit-learn grows forests to purity; on millions of rows we bound depth and trees
RF_MAX_DEPTH = 12
RF_MAX_TREES = 100
RF_LAMBDA = 1e-6


def _fit_xgboost(req: FitRequest):
    import xgboost as xgb
    from xgboost.spark import SparkXGBClassifier, SparkXGBRegressor

    params = xgboost_params(req.model, req.params)
    cls = SparkXGBClassifier if req.task == "classification" else SparkXGBRegressor
    extra = {"weight_col": WEIGHT} if req.weighted else {}
    if req.task == "classification" and req.n_classes > 2:
        extra["objective"] = "multi:softprob"
    learner = cls(features_col=FEATURES, label_col=LABEL, num_workers=req.num_workers, random_state=req.seed,
                  tree_method="hist", verbose=False, **extra, **params)
    quiet = logging.getLogger("XGBoost-PySpark")  # it logs every parameter at INFO on each fit
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        booster = learner.fit(req.frame).get_booster()  # one partition per worker already: no repartition
    finally:
        quiet.setLevel(level)
    local = (xgb.XGBClassifier if req.task == "classification" else xgb.XGBRegressor)()
    local.load_model(bytearray(booster.save_raw("ubj")))
    return local


XGBOOST_SPARK = DistributedLearner(
    name="xgboost.spark",
    models={"XGBoostClassifier": ("classification",), "XGBoostRegressor": ("regression",),
            "LightGBM": ("classification", "regression"), "GradientBoosting": ("classification", "regression"),
            "RandomForest": ("classification", "regression"), "ExtremeRandomTrees": ("classification", "regression")},
    fit=_fit_xgboost,
    notes="SparkXGBClassifier/Regressor (barrier tasks, one per worker); forests in XGBoost's random-forest mode",
)


# ---- SynapseML LightGBM ---------------------------------------------------------------------
SYNAPSEML_CLASS = "com.microsoft.azure.synapse.ml.lightgbm.LightGBMClassifier"
SYNAPSEML_MISSING = ("SynapseML is not on this cluster (Maven package com.microsoft.azure:synapseml_2.12 "
                     "and the 'synapseml' Python package)")


def synapseml_missing(spark) -> str | None:
    try:
        import synapse.ml.lightgbm  # noqa: F401

        spark.sparkContext._jvm.java.lang.Class.forName(SYNAPSEML_CLASS)
        return None
    except Exception:  # noqa: BLE001 - any failure means the classes are not reachable
        return SYNAPSEML_MISSING


def _fit_synapseml(req: FitRequest):
    import lightgbm as lgb
    from pyspark.ml.functions import array_to_vector
    from synapse.ml.lightgbm import LightGBMClassifier, LightGBMRegressor

    p = dict(req.params)
    args = {"numIterations": p.get("n_estimators", 100), "numLeaves": p.get("num_leaves", 31),
            "learningRate": p.get("learning_rate", 0.1), "minDataInLeaf": p.get("min_child_samples", 20),
            "featureFraction": p.get("colsample_bytree", 1.0), "baggingFraction": p.get("subsample", 1.0),
            "baggingFreq": 1 if p.get("subsample", 1.0) < 1.0 else 0, "lambdaL1": p.get("reg_alpha", 0.0),
            "lambdaL2": p.get("reg_lambda", 0.0), "seed": req.seed, "featuresCol": FEATURES, "labelCol": LABEL}
    if req.weighted:
        args["weightCol"] = WEIGHT
    cls = LightGBMClassifier if req.task == "classification" else LightGBMRegressor
    fitted = cls(**args).fit(req.frame.withColumn(FEATURES, array_to_vector(FEATURES)))
    return BoosterEstimator(lgb.Booster(model_str=fitted.getNativeModel()), req.task, req.n_classes)


class BoosterEstimator:
    """A native LightGBM booster behind predict / predict_proba."""

    def __init__(self, booster, task: str, n_classes: int):
        self.booster, self.task, self.n_classes = booster, task, n_classes
        self.classes_ = np.arange(n_classes) if task == "classification" else None

    def predict_proba(self, X) -> np.ndarray:
        raw = np.asarray(self.booster.predict(X), dtype=np.float64)
        return np.column_stack([1.0 - raw, raw]) if raw.ndim == 1 else raw

    def predict(self, X) -> np.ndarray:
        if self.task == "classification":
            return np.argmax(self.predict_proba(X), axis=1)
        return np.asarray(self.booster.predict(X), dtype=np.float64)


SYNAPSEML_LIGHTGBM = DistributedLearner(
    name="synapseml.lightgbm",
    models={"LightGBM": ("classification", "regression")},
    fit=_fit_synapseml,
    available=synapseml_missing,
    notes="SynapseML LightGBMClassifier/Regressor; the native model is loaded into a local LightGBM booster",
)


# ---- pyspark.ml linear models -------------------------------------------------------------------
def _linear_args(req: FitRequest) -> tuple[float, float] | None:
    """(regParam, elasticNetParam) with the objective scikit-learn optimised for this model."""
    p, n = req.params, max(req.n_rows, 1)
    l1 = float(p.get("l1_ratio", 0.0)) if p.get("penalty", "l2") == "elasticnet" else 0.0
    def inverse_c() -> tuple[float, float]:  # C * sum(loss) + ||w||^2 / 2  ==  mean(loss) + ||w||^2 / (2 C n)
        return 1.0 / (float(p.get("C", 1.0)) * n), 0.0

    table: dict[str, Callable[[], tuple[float, float]]] = {
        "LogisticRegression": inverse_c, "LinearSVM": inverse_c, "LinearSVMClassifier": inverse_c,
        "SGD": lambda: (float(p.get("alpha", 1e-4)), l1),
        "ElasticNet": lambda: (float(p.get("alpha", 1.0)), float(p.get("l1_ratio", 0.5))),
        "LassoLars": lambda: (float(p.get("alpha", 1.0)), 1.0),
        # Ridge: ||y - Xw||^2 + alpha ||w||^2  ==  (1/2n)||y - Xw||^2 + (alpha / 2n) ||w||^2
        "FastLinearRegressor": lambda: (float(p.get("alpha", 1.0)) / n, 0.0),
        "OnlineGradientDescentRegressor": lambda: (float(p.get("alpha", 1e-4)), 0.0),
    }
    return table[req.model]()


def _linear_supports(req: FitRequest) -> str | None:
    if req.model in ("LinearSVM", "LinearSVMClassifier") and req.n_classes != 2:
        return "pyspark.ml's LinearSVC is binary only"
    if req.model == "SGD" and req.params.get("loss", "log_loss" if req.task == "classification" else "squared_error") \
            not in ("log_loss", "squared_error"):
        return f"SGD loss {req.params.get('loss')!r} has no pyspark.ml counterpart"
    return None


def _class_weights(req: FitRequest) -> DataFrame:
    """class_weight='balanced' as row weights: n / (k * rows of the class), times any user weight."""
    import pyspark.sql.functions as F

    counts = req.class_counts
    total, k = sum(counts.values()), len(counts)
    factor = None
    for code, count in counts.items():
        value = F.lit(total / (k * count))
        factor = F.when(F.col(LABEL) == code, value) if factor is None else factor.when(F.col(LABEL) == code, value)
    return req.frame.withColumn(WEIGHT, F.col(WEIGHT) * factor.otherwise(F.lit(1.0)))


def _fit_linear(req: FitRequest):
    from pyspark.ml.classification import LinearSVC, LogisticRegression
    from pyspark.ml.functions import array_to_vector
    from pyspark.ml.regression import LinearRegression

    reg, l1 = _linear_args(req)
    frame = _class_weights(req) if req.params.get("class_weight") == "balanced" else req.frame
    weighted = req.weighted or req.params.get("class_weight") == "balanced"
    frame = frame.withColumn(FEATURES, array_to_vector(FEATURES))
    common = {"featuresCol": FEATURES, "labelCol": LABEL, "regParam": reg, "standardization": False,
              **({"weightCol": WEIGHT} if weighted else {})}
    if req.task == "regression":
        reg, l1 = _label_scaled(reg, l1, _label_std(frame, weighted))
        common["regParam"] = reg
        fitted = LinearRegression(elasticNetParam=l1, maxIter=LINEAR_MAX_ITER, **common).fit(frame)
        return _local_linear_regression(fitted.coefficients.toArray(), fitted.intercept)
    if req.model in ("LinearSVM", "LinearSVMClassifier"):
        fitted = LinearSVC(maxIter=LINEAR_MAX_ITER, **common).fit(frame)
        return _calibrated_svc(fitted.coefficients.toArray(), fitted.intercept, req)
    fitted = LogisticRegression(elasticNetParam=l1, maxIter=LINEAR_MAX_ITER, **common).fit(frame)
    if req.n_classes == 2:
        coef, intercept = fitted.coefficients.toArray()[None, :], np.array([fitted.intercept])
    else:
        coef, intercept = fitted.coefficientMatrix.toArray(), fitted.interceptVector.toArray()
    return _local_logistic(coef, intercept, req.n_classes)


LINEAR_MAX_ITER = 200


def _label_scaled(reg: float, l1: float, label_std: float) -> tuple[float, float]:
    """Spark's LinearRegression fits y / std(y) with regParam / std(y): back on y's scale its
    L1 weight is regParam * elasticNetParam, as in scikit-learn, but its L2 weight is divided
    by std(y). These (regParam, elasticNetParam) give scikit-learn's L1 weight reg*l1 and L2
    weight reg*(1-l1)."""
    if label_std <= 0.0:
        return reg, l1
    l1_weight, l2_weight = reg * l1, reg * (1.0 - l1) * label_std
    total = l1_weight + l2_weight
    return (total, l1_weight / total) if total > 0 else (reg, l1)


def _label_std(frame: DataFrame, weighted: bool) -> float:
    """The label's (weighted, unbiased) standard deviation, as Spark's summarizer computes it."""
    import pyspark.sql.functions as F

    w = F.col(WEIGHT) if weighted else F.lit(1.0)
    y = F.col(LABEL)
    row = frame.agg(F.sum(w).alias("sw"), F.sum(w * w).alias("sww"), F.sum(w * y).alias("swy"),
                    F.sum(w * y * y).alias("swyy")).first()
    if not row["sw"]:
        return 0.0
    denominator = row["sw"] - row["sww"] / row["sw"]
    variance = (row["swyy"] - row["swy"] ** 2 / row["sw"]) / denominator if denominator > 0 else 0.0
    return float(max(variance, 0.0) ** 0.5)


def _local_linear_regression(coef: np.ndarray, intercept: float):
    from sklearn.linear_model import LinearRegression

    model = LinearRegression()
    model.coef_, model.intercept_, model.n_features_in_ = np.asarray(coef), float(intercept), len(coef)
    return model


def _local_logistic(coef: np.ndarray, intercept: np.ndarray, n_classes: int):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression()
    model.coef_, model.intercept_ = np.asarray(coef, dtype=np.float64), np.asarray(intercept, dtype=np.float64)
    model.classes_, model.n_features_in_, model.n_iter_ = np.arange(n_classes), coef.shape[1], np.array([0])
    return model


def _calibrated_svc(coef: np.ndarray, intercept: float, req: FitRequest):
    """The all-rows margin, sigmoid-calibrated on the searched sample (as the search's
    LinearSVM is calibrated) so it gives probabilities."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.frozen import FrozenEstimator
    from sklearn.svm import LinearSVC

    svc = LinearSVC()
    svc.coef_, svc.intercept_ = np.asarray(coef)[None, :], np.array([intercept])
    svc.classes_, svc.n_features_in_ = np.arange(2), len(coef)
    return CalibratedClassifierCV(FrozenEstimator(svc), method="sigmoid").fit(req.sample_X, req.sample_y)


SPARK_ML_LINEAR = DistributedLearner(
    name="pyspark.ml",
    models={"LogisticRegression": ("classification",), "LinearSVM": ("classification",),
            "LinearSVMClassifier": ("classification",), "SGD": ("classification", "regression"),
            "ElasticNet": ("regression",), "LassoLars": ("regression",), "FastLinearRegressor": ("regression",),
            "OnlineGradientDescentRegressor": ("regression",)},
    fit=_fit_linear,
    supports=_linear_supports,
    notes="LogisticRegression, LinearSVC and LinearRegression with scikit-learn's objective; "
          "the coefficients become the scikit-learn model",
)

# In preference order: the first available learner that serves a model refits it.
LEARNERS: tuple[DistributedLearner, ...] = (SYNAPSEML_LIGHTGBM, XGBOOST_SPARK, SPARK_ML_LINEAR)


def choose_learner(model: str, task: str, spark, request: FitRequest | None = None,
                   learners: tuple[DistributedLearner, ...] = LEARNERS) -> tuple[DistributedLearner | None, list[str]]:
    """(the learner that refits this model on all rows, or None; notes on the ones passed over)."""
    notes: list[str] = []
    for learner in learners:
        if task not in learner.models.get(model, ()):
            continue
        missing = learner.available(spark)
        if missing:
            notes.append(f"{learner.name}: {missing}")
            continue
        why_not = learner.supports(request) if request is not None else None
        if why_not:
            notes.append(f"{learner.name}: {why_not}")
            continue
        return learner, notes
    return None, notes
