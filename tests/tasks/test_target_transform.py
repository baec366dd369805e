"""Regression on a non-negative label searches log1p(y) as a choice, scored on the original scale."""

import numpy as np
from sklearn.datasets import make_regression

from spark_automl import AutoMLConfig
from spark_automl.data.prepare import SearchData
from spark_automl.export.codegen import estimator_code
from spark_automl.models import REGISTRY, LogTarget
from spark_automl.search.sweeper import portfolio
from spark_automl.search.trial import Candidate, build_estimator, evaluate
from spark_automl.tasks.tabular import with_target_transform


def _specs():
    return [REGISTRY.get(n, "regression") for n in ("LightGBM", "ElasticNet", "RandomForest")]


def test_the_choice_is_offered_only_where_log1p_is_safe_and_exportable():
    positive, config = np.array([1.0, 5.0, 0.0]), AutoMLConfig(task="regression", label_column_name="y")
    offered = with_target_transform(_specs(), positive, config, large=False)
    assert all(s.space["target_transform"].options == ("none", "log1p") for s in offered)
    queue = portfolio(offered)
    assert queue[0] == ("LightGBM", {})
    assert ("LightGBM", {"target_transform": "log1p"}) in queue[:4]  # LightGBM's defaults, on the log scale, early
    for y, cfg, large in ((np.array([-1.0, 2.0]), config, False), (positive, config, True),
                          (positive, AutoMLConfig(task="regression", label_column_name="y",
                                                  enable_onnx_compatible_models=True), False),
                          (positive, AutoMLConfig(task="classification", label_column_name="y"), False)):
        assert all("target_transform" not in s.space for s in with_target_transform(_specs(), y, cfg, large))
    assert "target_transform" not in REGISTRY.get("LightGBM", "regression").space  # the registry is untouched


def test_a_log_normal_target_validates_better_on_the_log_scale():
    X, z = make_regression(1200, 6, noise=10.0, random_state=4)
    y = np.exp(z / 60.0) * 100.0  # prices: multiplicative noise, a long right tail
    idx = np.arange(1200)
    data = SearchData("regression", X.astype(np.float32), y, None, [(idx[idx % 3 != k], idx[idx % 3 == k])
                                                                     for k in range(3)], None, float(np.ptp(y)))
    plain = evaluate(Candidate(0, "LightGBM", {}), data, "r2_score")
    logged = evaluate(Candidate(1, "LightGBM", {"target_transform": "log1p"}), data, "r2_score")
    assert logged.score > plain.score + 0.05
    assert logged.oof.min() > 0  # expm1 of the learner's output: predictions on the label's scale


def test_the_wrapped_estimator_round_trips_through_generated_code():
    est = build_estimator("LightGBM", {"target_transform": "log1p", "n_estimators": 50}, "regression", None, 1, 0)
    assert isinstance(est, LogTarget)
    namespace: dict = {}
    exec("from lightgbm import LGBMRegressor\nfrom spark_automl.models import LogTarget\n"
         f"built = {estimator_code(est, indent=4)}", namespace)
    X, y = make_regression(200, 4, random_state=0)
    y = np.abs(y)
    assert np.allclose(namespace["built"].fit(X, y).predict(X), est.fit(X, y).predict(X))
