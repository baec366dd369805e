"""Table metrics as data, in Azure's shapes, checked against hand counts and scikit-learn."""

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from spark_automl.table_metrics import tables_for

Y = np.array(["a", "b", "c", "a", "b", "c", "a"])
PROBA = np.array([[.8, .1, .1], [.2, .7, .1], [.1, .2, .7], [.3, .6, .1], [.1, .8, .1], [.5, .2, .3], [.6, .3, .1]])


def test_classification_tables_match_hand_counts():
    tables = {k: json.loads(v) for k, v in tables_for("classification", Y, PROBA, ["a", "b", "c"]).items()}
    cm = tables["confusion_matrix.json"]
    assert cm["schema_type"] == "confusion_matrix" and cm["data"]["class_labels"] == ["a", "b", "c"]
    predicted = np.array(["a", "b", "c"])[PROBA.argmax(axis=1)]
    assert cm["data"]["matrix"] == confusion_matrix(Y, predicted, labels=["a", "b", "c"]).tolist()
    acc = tables["accuracy_table.json"]["data"]
    at_half = acc["probability_thresholds"].index(0.5)
    tp, fp, tn, fn = acc["probability_tables"][0][at_half]  # class "a", score >= 0.5
    assert (tp, fp, tn, fn) == (2, 1, 3, 1)
    assert all(sum(row) == len(Y) for table in acc["probability_tables"] for row in table)
    report = tables["classification_report.json"]["data"]
    assert report["b"]["recall"] == pytest.approx(1.0) and report["a"]["support"] == 3


def test_regression_tables_bin_the_residuals():
    y = np.arange(50.0)
    pred = y + np.where(y % 2 == 0, 1.0, -3.0)
    tables = {k: json.loads(v) for k, v in tables_for("regression", y, pred).items()}
    residuals = tables["residuals.json"]["data"]
    assert residuals["res_count"] == 50 and sum(residuals["bin_counts"]) == 50
    assert residuals["mean"] == pytest.approx(1.0) and residuals["stddev"] == pytest.approx(2.0)
    predicted_true = tables["predicted_true.json"]
    assert predicted_true["schema_type"] == "predictions" and sum(predicted_true["data"]["bin_counts"]) == 50


def test_integer_and_boolean_labels():
    """Labels like -1/1 (mammography) or True/False are tables too, not an 'unknown' target."""
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    for y, classes in ((np.array([-1, 1, 1, -1]), [-1, 1]), (np.array([False, True, True, False]), [False, True])):
        tables = {k: json.loads(v) for k, v in tables_for("classification", y, proba, classes).items()}
        assert tables["confusion_matrix.json"]["data"]["matrix"] == [[1, 1], [1, 1]]
        assert tables["classification_report.json"]["data"]["accuracy"] == pytest.approx(0.5)
