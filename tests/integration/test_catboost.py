"""CatBoost, the opt-in model of the 'catboost' extra, end to end: named in allowed_models it is searched on
the Spark executors, stops early on each fold, is logged in the safe format, explains itself with its own
TreeSHAP and writes runnable training code."""

import pytest
from mlflow.tracking import MlflowClient
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from spark_automl import AutoMLConfig, Experiment

pytestmark = [pytest.mark.spark, pytest.mark.extra("catboost")]


def test_catboost_named_in_allowed_models_is_searched_logged_explained_and_exported(spark, tracking_uri, credit_g):
    train, test = train_test_split(credit_g, test_size=0.25, random_state=0, stratify=credit_g["class"])
    cfg = AutoMLConfig(task="classification", training_data=train, label_column_name="class", iterations=3,
                       allowed_models=["CatBoost"], primary_metric="AUC_weighted",
                       backend="pandas_udf", enable_voting_ensemble=False, enable_stack_ensemble=False, seed=0)
    run = Experiment("catboost", spark=spark, tracking_uri=tracking_uri).submit(cfg)
    boosted = [r for r in run.results if r.model == "CatBoost"]
    assert boosted and all(r.status == "ok" for r in boosted), [r.error for r in boosted]
    assert len(boosted) == 3
    first = boosted[0]  # its first default: at most 2,000 rounds, each fold stopped early
    rounds = first.details["early_stopping"]["best_rounds"]
    assert len(rounds) == 10 and max(rounds) < 2000  # 750 rows: Azure's 10 folds
    assert first.params["n_estimators"] < 2000  # the refit's rounds: the folds' best
    best, model = run.get_output()
    proba = model.predict_proba(test.drop(columns=["class"]))[:, list(model.classes_).index("good")]
    assert roc_auc_score(test["class"] == "good", proba) > 0.72
    tags = MlflowClient(tracking_uri).get_run(run.tracker.child_run_ids[best.iteration]).data.tags
    assert tags["automl.model_format"] == "skops", tags.get("automl.model_format_reason")
    importance = run.explain(best.iteration, log=False)
    assert set(importance["method"]) == {"shap"} and importance["importance"].sum() == pytest.approx(1.0)
    code = run.generate_code(best.iteration, log=False)
    script = next(text for name, text in code.items() if name.endswith(".py"))
    assert "from catboost import CatBoostClassifier" in script and "CatBoostClassifier(" in script
