"""The final refit in large-data mode: every member of the winner refit on ALL training rows
in Spark, with the distributed learner its model family maps to."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import pandas as pd

from ..spark_utils import col, task_slots
from .features import features_frame
from .learners import FitRequest, choose_learner

log = logging.getLogger(__name__)


def refit_on_all_rows(spark, prepared, members: list, seed: int, say: Callable[[str], None],
                      fit_on_sample: Callable[[list], dict[int, Any]]) -> tuple[dict[int, Any], dict[int, str], int]:
    """(fitted estimators by iteration, which learner made each, training rows). A member no distributed
    learner serves, or whose distributed fit fails, is refit by fit_on_sample on the searched
    sample, and its entry says so."""
    from ..models import LabelEncodedClassifier

    data = prepared.search
    classification = data.task == "classification"
    classes, present, class_counts = None, [], {}
    if classification:  # one pass: the classes present in all training rows, their counts and the total
        rows_of = {r[0]: r[1] for r in prepared.full_train.groupBy(col(prepared.label)).count().collect()}
        present = [i for i, c in enumerate(data.classes) if c in rows_of]
        classes = [data.classes[i] for i in present]
        class_counts = {code: rows_of[c] for code, c in enumerate(classes)}
        n_rows = sum(rows_of.values())
    else:
        n_rows = prepared.full_train.count()
    # The RAW rows are shuffled into one partition per task slot, before featurization: the featurized
    # rows then already have the partitioning xgboost.spark's barrier stage wants (it would otherwise
    # shuffle the much wider feature arrays; coalesce is not allowed in a barrier stage). Not cached:
    # a learner reads the rows in one pass (xgboost.spark) or caches what it iterates over (pyspark.ml).
    slots = task_slots(spark)
    frame = features_frame(prepared.full_train.repartition(slots), prepared.featurizer,
                           prepared.feature_columns, prepared.label, prepared.weight_column, classes)
    fitted: dict[int, Any] = {}
    made_by: dict[int, str] = {}
    on_sample: list = []
    say(f"Refitting on {n_rows} training rows, featurized in Spark as each learner reads them")
    sample_X, sample_y = data.X, None
    if classification:  # the searched sample as label codes (a margin classifier is calibrated on it)
        codes = pd.Index(classes).get_indexer(data.y)
        sample_X, sample_y = data.X[codes >= 0], codes[codes >= 0]
    for member in members:
        request = FitRequest(frame, member.model, member.params, data.task, len(classes or []), n_rows, seed,
                             slots, prepared.weight_column is not None, sample_X, sample_y, class_counts)
        learner, notes = choose_learner(member.model, data.task, spark, request)
        for note in notes:
            say(f"  {member.model}: {note}")
        if learner is None:
            on_sample.append(member)
            made_by[member.iteration] = f"driver, searched sample of {data.n_rows} rows (no distributed learner)"
            continue
        say(f"Refitting iteration {member.iteration} ({member.model}) on {n_rows} rows with {learner.name}")
        t0 = time.time()
        try:
            estimator = learner.fit(request)
        except Exception as err:  # noqa: BLE001 - the sample refit still gives the user a model
            log.warning("distributed refit of %s failed: %s", member.model, err)
            say(f"  {learner.name} failed ({root_cause(err)}); refitting on the searched sample instead")
            on_sample.append(member)
            made_by[member.iteration] = f"driver, searched sample of {data.n_rows} rows ({learner.name} failed)"
            continue
        if classification:
            estimator = LabelEncodedClassifier.from_fitted(estimator, data.classes, present, data.X.shape[1])
        fitted[member.iteration] = estimator
        made_by[member.iteration] = f"{learner.name}, all {n_rows} rows ({time.time() - t0:.0f}s)"
    fitted.update(fit_on_sample(on_sample) if on_sample else {})
    return fitted, made_by, n_rows


def root_cause(err: Exception) -> str:
    """The line of a (Py4J-wrapped) error that says what went wrong, not which JVM call failed."""
    import re

    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    for line in reversed(lines[1:]):  # the innermost cause is printed last
        if re.match(r"^(Caused by: )?[\w.$]*(Exception|Error)\b", line) and "Py4JJavaError" not in line:
            return line.removeprefix("Caused by: ")[:300]
    return f"{type(err).__name__}: {lines[0][:300] if lines else ''}"
