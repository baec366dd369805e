"""LightGBM may split on categorical columns themselves: the search chooses 'onehot' or 'native'."""

import lightgbm as lgb
import numpy as np
import pandas as pd

from spark_automl import AutoMLConfig
from spark_automl.data.prepare import SearchData
from spark_automl.export.codegen import estimator_code
from spark_automl.featurize.transformer import AutoFeaturizer, ColumnPlan
from spark_automl.models import REGISTRY, CategoryCodes
from spark_automl.search.sweeper import portfolio
from spark_automl.search.trial import Candidate, build_estimator, evaluate
from spark_automl.tasks.tabular import with_native_categories


LEVELS = 60


def _featurized(n: int = 900):
    """A label set by which half of 60 levels a row's category is in (15 rows a level): a one-hot
    column cannot isolate a level (LightGBM's min_child_samples is 20), one categorical split can."""
    rng = np.random.default_rng(0)
    city = rng.integers(0, LEVELS, n)
    x = rng.normal(size=n)
    high = rng.permutation(LEVELS)[: LEVELS // 2]
    y = (np.isin(city, high) ^ (rng.random(n) < 0.1)).astype(int)
    frame = pd.DataFrame({"city": [f"c{c}" for c in city], "x": x})
    featurizer = AutoFeaturizer(plans=[
        ColumnPlan("city", "categorical", vocabulary=[f"c{i}" for i in range(LEVELS)]),
        ColumnPlan("x", "numeric", mean=0.0, scale=1.0)]).fit()
    return featurizer, featurizer.transform(frame), np.array(["no", "yes"])[y], city


def test_one_hot_blocks_become_one_categorical_column_each():
    featurizer, X, _, city = _featurized()
    groups = featurizer.categorical_groups()
    assert groups == (tuple(range(LEVELS + 1)),)  # the levels + __other__, before the numeric column
    collapsed = CategoryCodes(None, groups)._collapse(X)
    assert collapsed.shape == (len(X), 2)
    assert (collapsed[:, 1] == city).all() and np.allclose(collapsed[:, 0], X[:, LEVELS + 1])


def test_native_splits_match_lightgbm_given_the_codes_and_validate_better_here():
    featurizer, X, y, city = _featurized()
    groups = featurizer.categorical_groups()
    ours = build_estimator("LightGBM", {"categorical": "native"}, "classification", ["no", "yes"], 1, 0,
                           categorical_groups=groups).fit(X, y)
    plain = lgb.LGBMClassifier(n_jobs=1, random_state=0, verbose=-1, subsample_freq=0)
    codes = np.column_stack([X[:, LEVELS + 1], city])
    plain.fit(codes, (y == "yes").astype(int), categorical_feature=[1])
    assert np.allclose(ours.predict_proba(X)[:, 1], plain.predict_proba(codes)[:, 1])
    idx = np.arange(len(X))
    data = SearchData("classification", X, y, None, [(idx[idx % 3 != k], idx[idx % 3 == k]) for k in range(3)],
                      ["no", "yes"], None, categorical_groups=groups)
    onehot = evaluate(Candidate(0, "LightGBM", {"n_estimators": 30}), data, "AUC_weighted")
    native = evaluate(Candidate(1, "LightGBM", {"n_estimators": 30, "categorical": "native"}), data, "AUC_weighted")
    assert native.score > onehot.score + 0.05


def test_the_choice_is_offered_to_lightgbm_only_with_categories_and_outside_onnx_and_large_mode():
    specs = [REGISTRY.get(n, "classification") for n in ("LightGBM", "RandomForest")]
    config = AutoMLConfig(task="classification", label_column_name="y")
    with_groups = SearchData("classification", np.zeros((2, 3)), np.array([0, 1]), None, [], [0, 1], None,
                             categorical_groups=((0, 1),))
    offered = with_native_categories(specs, with_groups, config, large=False)
    assert offered[0].space["categorical"].options == ("onehot", "native") and "categorical" not in offered[1].space
    assert ("LightGBM", {"categorical": "native"}) in portfolio(offered)[:4]
    without = SearchData("classification", np.zeros((2, 3)), np.array([0, 1]), None, [], [0, 1], None)
    onnx = AutoMLConfig(task="classification", label_column_name="y", enable_onnx_compatible_models=True)
    for data, cfg, large in ((without, config, False), (with_groups, onnx, False), (with_groups, config, True)):
        assert all("categorical" not in s.space for s in with_native_categories(specs, data, cfg, large))


def test_generated_code_rebuilds_the_native_learner():
    featurizer, X, y, _ = _featurized(300)
    est = build_estimator("LightGBM", {"categorical": "native", "n_estimators": 20}, "classification",
                          ["no", "yes"], 1, 0, categorical_groups=featurizer.categorical_groups())
    namespace: dict = {}
    exec("from lightgbm import LGBMClassifier\nfrom spark_automl.models import CategoryCodes, LabelEncodedClassifier\n"
         f"built = {estimator_code(est, indent=4)}", namespace)
    assert np.allclose(namespace["built"].fit(X, y).predict_proba(X), est.fit(X, y).predict_proba(X))
