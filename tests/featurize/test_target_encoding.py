"""Target encoding of high-cardinality categoricals (Azure's CatTargetEncoder / WoETargetEncoder),
fit inside each fold: it lifts a column whose categories carry signal, and gives no lift out of fold
to a noise column (which a target encoding fit on all rows would turn into a perfect-looking feature)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from spark_automl import AutoMLConfig, Experiment, FeaturizationConfig

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _frame(signal: bool, seed: int = 0, n: int = 3000, n_categories: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    category = rng.integers(0, n_categories, size=n)
    rate = rng.uniform(0.05, 0.95, size=n_categories)[category] if signal else np.full(n, 0.5)
    return pd.DataFrame({"merchant": [f"m{c:04d}" for c in category], "noise": rng.normal(size=n),
                         "fraud": np.where(rng.uniform(size=n) < rate, "yes", "no")})


def _auc(spark, tracking_uri, frame, featurization="auto") -> tuple[float, object]:
    cfg = AutoMLConfig(task="classification", training_data=frame, label_column_name="fraud",
                       primary_metric="AUC_weighted", iterations=2, n_cross_validations=3,
                       allowed_models=["LogisticRegression", "LightGBM"], featurization=featurization,
                       enable_voting_ensemble=False, enable_stack_ensemble=False, model_explainability=False,
                       seed=0)
    run = Experiment("target-encoding", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    return run.best.score, run


def test_target_encoding_lifts_a_predictive_high_cardinality_column(spark, tracking_uri):
    frame = _frame(signal=True)
    encoded, run = _auc(spark, tracking_uri, frame)
    plan = {p["name"]: p for p in run.info["featurization"]}["merchant"]
    assert plan["purpose"] == "hash" and "target-encoded" in plan["reason"]
    assert run.info["estimator_args"]["woe"] and len(run.info["estimator_args"]["code_columns"]) == 1
    blocked = FeaturizationConfig(blocked_transformers=["CatTargetEncoder"])
    hashed_only, _ = _auc(spark, tracking_uri, frame, blocked)
    assert encoded > hashed_only + 0.03, (encoded, hashed_only)
    scored = run.model.predict_proba(frame.drop(columns=["fraud"]).head(20))  # the logged pipeline encodes too
    assert scored.shape == (20, 2) and np.isfinite(scored).all()


def test_a_noise_category_gets_no_lift_out_of_fold(spark, tracking_uri):
    frame = _frame(signal=False, seed=1, n_categories=1000)  # three rows a category
    y = (frame["fraud"] == "yes").to_numpy()
    leaky = frame.groupby("merchant")["fraud"].transform(lambda s: (s == "yes").mean())  # fit on every row
    assert roc_auc_score(y, leaky) > 0.75  # what an encoder fit before the folds would report
    auc, _ = _auc(spark, tracking_uri, frame)
    assert auc < 0.56, auc
