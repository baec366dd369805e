"""Champion / challenger promotion of a registered model.

Both versions score the same fresh labelled rows on Spark; the challenger takes the champion's alias
only when it beats the champion by `margin` on the metric (the challenger's own primary metric by
default). Every decision, kept or promoted, is an MLflow run with both scores, and both model
versions are tagged with it, so "why is this version serving?" has an answer in the registry.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from .errors import ConfigError, DataError
from .tracking import create_experiment, resolve_registry_uri, resolve_tracking_uri

PROMOTED, KEPT = "promoted", "kept"


@dataclass(frozen=True)
class PromotionDecision:
    model_name: str
    alias: str
    decision: str  # PROMOTED or KEPT
    reason: str
    metric: str
    challenger_version: str
    challenger_score: float
    champion_version: str | None
    champion_score: float | None
    margin: float
    rows: int
    run_id: str | None = None

    @property
    def promoted(self) -> bool:
        return self.decision == PROMOTED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def promote(spark: SparkSession, data: DataFrame, model_name: str, challenger: str | int = "latest",
            alias: str = "champion", metric: str | None = None, margin: float = 0.0,
            label_column_name: str | None = None, tracking_uri: str | None = None, registry_uri: str | None = None,
            experiment_name: str = "spark-automl-promotions") -> PromotionDecision:
    """Score `challenger` (a version number, an alias or 'latest') and the version holding `alias`
    on `data`, move `alias` to the challenger if it wins by at least `margin`, and record why.

    margin is in the metric's own units, in its better direction (0.01 AUC, or 0.01 lower NRMSE).
    With no champion yet the challenger is promoted; the same version is never scored twice.
    """
    from mlflow.tracking import MlflowClient

    tracking = resolve_tracking_uri(tracking_uri)
    client = MlflowClient(tracking, resolve_registry_uri(registry_uri, tracking))
    if not isinstance(margin, (int, float)) or isinstance(margin, bool) or not math.isfinite(margin) or margin < 0:
        raise ConfigError(f"margin must be a finite number >= 0 (in the metric's units); got {margin!r}.")
    new = _version(client, model_name, challenger)
    params = _training_params(client, new.run_id)
    task = params.get("task")
    if task not in ("classification", "regression", "forecasting"):
        raise ConfigError(f"Version {new.version} of {model_name!r} was not logged by a spark-automl run (its run has "
                          "no 'task' parameter); promotion needs to know how to score it.")
    from .metrics import metric_names, metric_spec

    metric = metric or params.get("primary_metric") or ("accuracy" if task == "classification"
                                                        else "normalized_root_mean_squared_error")
    if metric not in metric_names(task):
        raise ConfigError(f"metric {metric!r} is not a {task} metric; choose one of {metric_names(task)}.")
    label = label_column_name or params.get("label_column_name")
    if not label or label not in data.columns:
        raise DataError(f"The promotion data needs the label column {label!r} (the challenger's label_column_name); "
                        f"it has {data.columns}. Pass label_column_name if the column is named differently.")
    old = _alias_version(client, model_name, alias)
    scorer = _Scorer(spark, data, label, task, metric, params, tracking, registry_uri)
    try:
        new_score = scorer.score(f"models:/{model_name}/{new.version}")
        old_score = None if old is None or old.version == new.version else \
            scorer.score(f"models:/{model_name}/{old.version}")
    finally:
        scorer.data.unpersist()  # cached for the two scorings only
    better = metric_spec(metric).greater_is_better
    if old is None:
        decision, reason = PROMOTED, f"no version held the alias {alias!r}"
    elif old.version == new.version:
        old_score, decision, reason = new_score, KEPT, f"version {new.version} already holds {alias!r}"
    else:
        gain = (new_score - old_score) if better else (old_score - new_score)
        won = math.isfinite(gain) and gain >= margin and gain > 0
        decision = PROMOTED if won else KEPT
        reason = (f"{metric} {new_score:.6g} vs {old_score:.6g}: the challenger "
                  + (f"wins by {gain:.4g} >= margin {margin:g}" if won else f"does not win by the margin {margin:g} "
                                                                         f"(gain {gain:.4g})"))
    result = PromotionDecision(model_name, alias, decision, reason, metric, str(new.version), new_score,
                               None if old is None else str(old.version), old_score, float(margin), scorer.rows)
    if decision == PROMOTED:
        client.set_registered_model_alias(model_name, alias, new.version)
    return _record(client, experiment_name, result)


def _version(client, name: str, ref: str | int):
    from mlflow.exceptions import MlflowException

    try:
        if str(ref) == "latest":
            versions = client.search_model_versions(f"name = '{name}'")
            if not versions:
                raise ConfigError(f"Registered model {name!r} has no versions; run the train job first.")
            return max(versions, key=lambda v: int(v.version))
        if str(ref).isdigit():
            return client.get_model_version(name, str(ref))
        return client.get_model_version_by_alias(name, str(ref))
    except MlflowException as err:
        raise ConfigError(f"No version {ref!r} of registered model {name!r}: {err.message}") from None


def _training_params(client, run_id: str | None) -> dict[str, str]:
    """The AutoML settings (task, primary_metric, label...) of the run a version came from: the model
    may be logged on a child run, whose parent holds them."""
    if not run_id:
        return {}
    run = client.get_run(run_id)
    parent = run.data.tags.get("mlflow.parentRunId")
    return run.data.params if "task" in run.data.params or not parent else client.get_run(parent).data.params


def _alias_version(client, name: str, alias: str):
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


class _Scorer:
    """One version's score on the promotion rows, computed on the executors and reduced on the
    driver to the label and the prediction (or class probabilities) only."""

    def __init__(self, spark: SparkSession, data: DataFrame, label: str, task: str, metric: str,
                 params: dict[str, str], tracking_uri: str, registry_uri: str | None):
        self.spark, self.data, self.label, self.task, self.metric = spark, data.cache(), label, task, metric
        self.params, self.tracking_uri, self.registry_uri = params, tracking_uri, registry_uri
        self.rows = self.data.count()
        if self.rows == 0:
            raise DataError("The promotion data has no rows; both models need fresh labelled rows to be compared.")

    def score(self, uri: str) -> float:
        from .metrics import classification_metrics, regression_metrics

        if self.task == "forecasting":
            y, pred = self._forecast(uri)
            return regression_metrics(y, pred)[self.metric]
        from .scoring import score_spark

        keyed = self.data.withColumn("__promote_row__", _row_id())
        scored = score_spark(self.spark, keyed.drop(self.label), uri, tracking_uri=self.tracking_uri,
                             registry_uri=self.registry_uri, probabilities=self.task == "classification")
        out = scored.join(keyed.select("__promote_row__", self.label), "__promote_row__").toPandas()
        y = out[self.label].to_numpy()
        if self.task == "regression":
            return regression_metrics(y, out["prediction"].to_numpy(dtype=float))[self.metric]
        names = [c for c in out.columns if c.startswith("probability_")]
        classes = _classes(y, [n[len("probability_"):] for n in names])
        positive = self.params.get("positive_label")
        positive = next((c for c in classes if str(c) == positive), None) if positive not in (None, "None") else None
        return classification_metrics(y, out[names].to_numpy(dtype=float), classes, positive_label=positive)[self.metric]

    def _forecast(self, uri: str):
        import mlflow.pyfunc

        from .scoring import forecast_spark, local_model_path

        schema = mlflow.pyfunc.load_model(local_model_path(uri, self.tracking_uri, self.registry_uri)) \
            .unwrap_python_model().fitted.schema
        keys = [*schema.id_columns, schema.time_column]
        missing = [c for c in keys if c not in self.data.columns]
        if missing:
            raise DataError(f"The promotion data lacks the forecaster's column(s) {missing}; it needs {keys} and "
                            f"{self.label!r}.")
        predicted = forecast_spark(self.spark, self.data.drop(self.label), uri, tracking_uri=self.tracking_uri,
                                   registry_uri=self.registry_uri)
        out = self.data.select(*keys, self.label).join(predicted.select(*keys, "prediction"), keys).toPandas()
        out = out.dropna(subset=["prediction"])
        if out.empty:
            raise DataError("No promotion row could be forecast (unknown series or times before the training end).")
        return out[self.label].to_numpy(dtype=float), out["prediction"].to_numpy(dtype=float)


def _row_id():
    import pyspark.sql.functions as F

    return F.monotonically_increasing_id()


def _classes(y, names: list[str]) -> list:
    """The probability columns' classes in the labels' own type (the column names are strings)."""
    by_text = {str(v): v for v in set(y.tolist())}
    return [by_text.get(n, n) for n in names]


def _record(client, experiment_name: str, result: PromotionDecision) -> PromotionDecision:
    """The decision as an MLflow run, and a tag on both versions pointing to it."""
    experiment_id = create_experiment(client, client.tracking_uri, experiment_name)
    run = client.create_run(experiment_id, run_name=f"promote {result.model_name} v{result.challenger_version}",
                            tags={"automl.promotion": result.decision, "mlflow.note.content": result.reason})
    params = {"model_name": result.model_name, "alias": result.alias, "metric": result.metric,
              "margin": result.margin, "challenger_version": result.challenger_version,
              "champion_version": result.champion_version, "rows": result.rows}
    for key, value in params.items():
        client.log_param(run.info.run_id, key, value)
    client.log_metric(run.info.run_id, "challenger_score", result.challenger_score)
    if result.champion_score is not None:
        client.log_metric(run.info.run_id, "champion_score", result.champion_score)
    client.set_terminated(run.info.run_id, "FINISHED", end_time=int(time.time() * 1000))
    client.set_model_version_tag(result.model_name, result.challenger_version, "promotion",
                                 f"{result.decision}: {result.reason} (run {run.info.run_id})")
    if result.champion_version and result.champion_version != result.challenger_version:
        client.set_model_version_tag(result.model_name, result.champion_version, "promotion",
                                     f"challenged by version {result.challenger_version}: {result.decision} "
                                     f"(run {run.info.run_id})")
    return PromotionDecision(**{**result.to_dict(), "run_id": run.info.run_id})
