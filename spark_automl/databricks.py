"""Databricks AutoML's API (databricks.automl.classify / regress / forecast) over the same core.

Databricks' parameter and metric names are translated to an AutoMLConfig once, here; the call
returns Databricks' summary (experiment, trials, best_trial, metric_distribution) which also
exposes the AutoMLRun (`summary.run`, and any AutoMLRun attribute).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import ConfigError

log = logging.getLogger(__name__)

# Databricks metric name -> this library's (Azure's) metric, per task. Default first.
METRIC_NAMES: dict[str, dict[str, str]] = {
    "classification": {"f1": "f1_score_weighted", "log_loss": "log_loss", "precision": "precision_score_weighted",
                       "recall": "recall_score_weighted", "accuracy": "accuracy", "roc_auc": "AUC_weighted"},
    "regression": {"r2": "r2_score", "mae": "mean_absolute_error", "rmse": "root_mean_squared_error",
                   "mse": "root_mean_squared_error"},
    "forecasting": {"mae": "mean_absolute_error", "rmse": "root_mean_squared_error", "mse": "root_mean_squared_error",
                    "r2": "r2_score"},
}
DEFAULT_METRIC = {"classification": "f1", "regression": "r2", "forecasting": None}
SPLIT_VALUES = ("train", "validate", "test")  # split_col's values
TIME_SPLIT_VALIDATION = 0.2  # time_col: the latest 20% of rows validate (Databricks: 60/20/20 with test)
_SPLIT_COLUMN = "__databricks_split"


def translate_metric(task: str, name: str | None) -> str | None:
    """Databricks' name (f1, roc_auc, r2, mae...) or any name AutoMLConfig takes."""
    if name is None:
        name = DEFAULT_METRIC[task]
    if name is None or not isinstance(name, str):
        return name
    if name in METRIC_NAMES[task]:
        return METRIC_NAMES[task][name]
    if name in ("smape", "mdape"):
        raise ConfigError(f"primary_metric={name!r} is not a primary metric here (it needs each series); it is "
                          "logged for every trial as forecast_symmetric_mean_absolute_percentage_error. Use one of "
                          f"{', '.join(METRIC_NAMES[task])} or an AutoML metric name.")
    return name


def blocked_by_frameworks(task: str, frameworks: list[str] | None) -> list[str]:
    """exclude_frameworks (sklearn, lightgbm, xgboost, catboost; prophet, arima, statsforecast) as model names."""
    from .models import REGISTRY

    if not frameworks:
        return []
    if isinstance(frameworks, str) or not all(isinstance(f, str) for f in frameworks):
        raise ConfigError(f"exclude_frameworks must be a list of str; got {frameworks!r}.")
    tasks = ("forecasting", "regression") if task == "forecasting" else (task,)
    specs = [REGISTRY.get(n, t) for t in tasks for n in REGISTRY.names(t)]
    known = sorted({s.framework for s in specs})
    unknown = [f for f in frameworks if f not in known]
    if unknown:
        raise ConfigError(f"exclude_frameworks holds unknown framework(s) {unknown}; valid for {task}: "
                          f"{', '.join(known)}.")
    return sorted({s.name for s in specs if s.framework in frameworks})


def _with_split_column(dataset: Any, values: Callable, spark) -> Any:
    """A copy of the data with a 0/1 split column (1 trains, 0 validates): pandas or Spark."""
    import pandas as pd

    if isinstance(dataset, pd.DataFrame):
        return values(dataset, None)
    from .data.ingest import to_spark

    if isinstance(dataset, str):
        from .spark_utils import default_session

        dataset = to_spark(spark or default_session(), dataset, "dataset")
    frame = dataset
    return values(None, frame)


def split_by_column(dataset: Any, split_col: str, spark) -> tuple[Any, Any]:
    """Databricks' split_col ('train' / 'validate' / 'test'): (training rows with a split column, test rows)."""
    def build(pdf, sdf):
        if pdf is not None:
            if split_col not in pdf.columns:
                raise ConfigError(f"split_col {split_col!r} is not a column of the dataset.")
            bad = sorted(set(map(str, pdf[split_col].dropna().unique())) - set(SPLIT_VALUES))
            if bad or pdf[split_col].isna().any():
                raise ConfigError(f"split_col {split_col!r} must hold only {', '.join(SPLIT_VALUES)} in every row; "
                                  f"found {bad[:5] or ['missing values']}.")
            test = pdf[pdf[split_col] == "test"].drop(columns=[split_col])
            train = pdf[pdf[split_col] != "test"].copy()
            train[_SPLIT_COLUMN] = (train.pop(split_col) == "train").astype(np.int64)
            return train.reset_index(drop=True), (test.reset_index(drop=True) if len(test) else None)
        from pyspark.sql import functions as F

        if split_col not in sdf.columns:
            raise ConfigError(f"split_col {split_col!r} is not a column of the dataset.")
        bad = [r[0] for r in sdf.filter(~F.col(split_col).isin(*SPLIT_VALUES) | F.col(split_col).isNull())
               .select(split_col).distinct().limit(5).collect()]
        if bad:
            raise ConfigError(f"split_col {split_col!r} must hold only {', '.join(SPLIT_VALUES)} in every row; "
                              f"found {bad}.")
        test = sdf.filter(F.col(split_col) == "test").drop(split_col)
        train = (sdf.filter(F.col(split_col) != "test")
                 .withColumn(_SPLIT_COLUMN, (F.col(split_col) == "train").cast("long")).drop(split_col))
        return train, (test if test.limit(1).count() else None)

    return _with_split_column(dataset, build, spark)


def split_by_time(dataset: Any, time_col: str, spark) -> Any:
    """Databricks' time_col for classify/regress: the earliest rows train, the latest 20% validate."""
    def build(pdf, sdf):
        if pdf is not None:
            if time_col not in pdf.columns:
                raise ConfigError(f"time_col {time_col!r} is not a column of the dataset.")
            rank = pdf[time_col].rank(method="first", pct=True)
            frame = pdf.copy()
            frame[_SPLIT_COLUMN] = (rank <= 1 - TIME_SPLIT_VALIDATION).astype(np.int64)
            return frame
        from pyspark.sql import Window, functions as F

        if time_col not in sdf.columns:
            raise ConfigError(f"time_col {time_col!r} is not a column of the dataset.")
        rank = F.percent_rank().over(Window.orderBy(F.col(time_col)))
        return sdf.withColumn(_SPLIT_COLUMN, (rank < 1 - TIME_SPLIT_VALIDATION).cast("long"))

    return _with_split_column(dataset, build, spark)


@dataclass
class TrialInfo:
    """One trial as Databricks shows it."""

    mlflow_run_id: str | None
    metrics: dict[str, float]
    params: dict[str, Any]
    model_description: str
    duration: float
    evaluation_metric_score: float
    iteration: int
    model_path: str | None = None
    _run: Any = field(default=None, repr=False)

    def load_model(self):
        """The fitted model (the logged one for the best trial; another is refit in the submitting process)."""
        return self._run.get_output(iteration=self.iteration)[1]


class AutoMLSummary:
    """Databricks' AutoMLSummary: experiment, trials (best first), best_trial, metric_distribution;
    `run` is the AutoMLRun, whose attributes are reachable here too."""

    def __init__(self, run):
        self.run = run
        self.experiment = run.tracker.client.get_experiment(run.tracker.experiment_id) if run.id else None
        self.output_table_name = None
        board = run.leaderboard
        by_iteration = {r.iteration: r for r in run.results}
        self.trials = [self._trial(by_iteration[i]) for i in board["iteration"] if by_iteration[i].status == "ok"]
        self.best_trial = self.trials[0] if self.trials else None
        scores = np.array([t.evaluation_metric_score for t in self.trials], dtype=float)
        self.metric_distribution = (f"{run.primary_metric}: min {scores.min():.4f}, median {np.median(scores):.4f}, "
                                    f"max {scores.max():.4f} over {len(scores)} trials") if len(scores) else ""

    def _trial(self, r) -> TrialInfo:
        run = self.run
        path = run.model_uri if r.iteration == run.record.best_iteration else None
        description = f"{r.model}(" + ", ".join(f"{k}={v}" for k, v in sorted(r.params.items())) + ")"
        return TrialInfo(run.tracker.child_run_ids.get(r.iteration), dict(r.metrics), dict(r.params), description,
                         r.duration, r.score, r.iteration, path, run)

    def __getattr__(self, name: str):
        if name == "run":
            raise AttributeError(name)
        return getattr(self.run, name)

    def __repr__(self) -> str:
        best = self.best_trial
        return (f"AutoMLSummary(trials={len(self.trials)}, best_trial={best.model_description[:60] if best else None}, "
                f"{self.metric_distribution})")


def databricks_settings(task: str, dataset: Any, spark, *, exclude_cols=None,
                        exclude_frameworks=None, experiment_dir=None, experiment_name=None, time_col=None,
                        split_col=None, sample_weight_col=None, pos_label=None, imputers=None, data_dir=None,
                        feature_store_lookups=None, config: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(AutoMLConfig keywords, experiment name) for Databricks' arguments; config holds the caller's
    AutoMLConfig keywords, which must not say the same thing twice."""
    from .featurize.config import FeaturizationConfig

    if feature_store_lookups:
        raise ConfigError("feature_store_lookups needs the Databricks Feature Store, which is not available here: "
                          "join the features into the dataset first.")
    if data_dir is not None:
        log.info("data_dir has no effect here: the data is not copied anywhere.")
    out: dict[str, Any] = {}
    twice = {"sample_weight_col": "weight_column_name", "pos_label": "positive_label",
             "exclude_frameworks": "blocked_models"}
    given = {"sample_weight_col": sample_weight_col, "pos_label": pos_label, "exclude_frameworks": exclude_frameworks}
    for name, value in given.items():
        if value is not None and twice[name] in config:
            raise ConfigError(f"Give either {name} (Databricks) or {twice[name]} (AutoMLConfig), not both.")
    if sample_weight_col is not None:
        out["weight_column_name"] = sample_weight_col
    if pos_label is not None:
        out["positive_label"] = pos_label
    if exclude_frameworks:
        blocked = blocked_by_frameworks(task, exclude_frameworks)
        out["blocked_models"] = blocked
    if exclude_cols or imputers:
        featurization = config.get("featurization", "auto")
        fc = copy.deepcopy(featurization) if isinstance(featurization, FeaturizationConfig) else FeaturizationConfig()
        if isinstance(exclude_cols, str) or (exclude_cols and not all(isinstance(c, str) for c in exclude_cols)):
            raise ConfigError(f"exclude_cols must be a list of column names; got {exclude_cols!r}.")
        fc.add_drop_columns(list(exclude_cols or []))
        for column, strategy in (imputers or {}).items():
            params = strategy if isinstance(strategy, dict) else {"strategy": strategy}
            fc.add_transformer_params("Imputer", [column], params)
        out["featurization"] = fc
    if split_col is not None and time_col is not None and task != "forecasting":
        raise ConfigError("Give either split_col or time_col, not both: they choose the same thing (the split).")
    if (split_col is not None or (time_col is not None and task != "forecasting")) and (
            {"validation_data", "n_cross_validations", "validation_size", "cv_split_column_names"} & set(config)):
        raise ConfigError("split_col / time_col choose the validation split; drop validation_data, "
                          "n_cross_validations, validation_size and cv_split_column_names.")
    if split_col is not None:
        out["training_data"], test = split_by_column(dataset, split_col, spark)
        out["cv_split_column_names"] = [_SPLIT_COLUMN]
        if test is not None:
            out["test_data"] = test
    elif time_col is not None and task != "forecasting":
        out["training_data"] = split_by_time(dataset, time_col, spark)
        out["cv_split_column_names"] = [_SPLIT_COLUMN]
    name = experiment_name
    if experiment_dir is not None:
        name = f"{experiment_dir.rstrip('/')}/{experiment_name or f'automl-{task}'}"
    return out, name
