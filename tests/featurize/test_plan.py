"""FeaturizationConfig as Azure documents it, honoured by the plan built in Spark."""

import logging

import numpy as np
import pandas as pd
import pytest

from spark_automl import ConfigError, FeaturizationConfig
from spark_automl.data.profile import profile
from spark_automl.featurize.plan import MAX_ONE_HOT, build_plan

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def frame(spark):
    n = 300
    pdf = pd.DataFrame({
        "color": [["red", "green", "blue", "black", "white"][i % 5] if i % 10 else None for i in range(n)],
        "city": [f"c{i % 90}" for i in range(n)],                      # 90 values: hashed by default
        "num": np.arange(n, dtype=float),
        "y": ["no", "yes"] * (n // 2),
    })
    df = spark.createDataFrame(pdf)
    return pdf, df, profile(df, "y", classification=True)


def _plan(frame, fc):
    pdf, df, prof = frame
    return {p.name: p for p in build_plan(df, prof, ["color", "city", "num"], fc).columns}


def test_max_categories_caps_and_raises_one_hot(frame):
    fc = FeaturizationConfig()
    fc.add_transformer_params("OneHotEncoder", ["color"], {"max_categories": 2})
    fc.add_transformer_params("OneHotEncoder", ["city"], {"max_categories": 100})
    plan = _plan(frame, fc)
    assert len(plan["color"].vocabulary) == 2 and "max_categories=2" in plan["color"].reason
    assert plan["city"].purpose == "categorical" and len(plan["city"].vocabulary) == 90 > MAX_ONE_HOT
    default = _plan(frame, "auto")
    assert default["city"].purpose == "hash" and len(default["color"].vocabulary) == 5


def test_constant_imputer_on_a_categorical_column(frame):
    fc = FeaturizationConfig()
    fc.add_transformer_params("Imputer", ["color"], {"strategy": "constant", "fill_value": "unknown"})
    plan = _plan(frame, fc)["color"]
    assert plan.fill_value == "unknown" and "unknown" in plan.vocabulary and not plan.missing_indicator
    from spark_automl.featurize.transformer import AutoFeaturizer

    featurizer = AutoFeaturizer([plan]).fit()
    out = featurizer.transform(pd.DataFrame({"color": [None, "red"]}))
    names = list(featurizer.get_feature_names_out())
    assert out[:, names.index("color=unknown")].tolist() == [1.0, 0.0]  # the missing row is 'unknown'
    assert "color=__missing__" not in names
    fc_bad = FeaturizationConfig()
    fc_bad.add_transformer_params("Imputer", ["color"], {"strategy": "median"})
    with pytest.raises(ConfigError, match="'median' is for numeric columns; column 'color'"):
        _plan(frame, fc_bad)


def test_azure_documented_example_and_transformer_names(caplog):
    featurization_config = FeaturizationConfig()
    with caplog.at_level(logging.INFO, logger="spark_automl"):
        featurization_config.blocked_transformers = ['LabelEncoder']
    assert "LabelEncoder changes nothing" in caplog.text
    featurization_config.drop_columns = ['aspiration', 'stroke']
    featurization_config.add_column_purpose('engine-size', 'Numeric')
    featurization_config.add_column_purpose('body-style', 'CategoricalHash')
    featurization_config.add_transformer_params('Imputer', ['engine-size'], {"strategy": "median"})
    featurization_config.add_transformer_params('Imputer', ['city-mpg'], {"strategy": "median"})
    featurization_config.add_transformer_params('Imputer', ['bore'], {"strategy": "most_frequent"})
    featurization_config.add_transformer_params('HashOneHotEncoder', [], {"number_of_bits": 3})
    assert featurization_config.drop_columns == ['aspiration', 'stroke']
    for name in ("CatTargetEncoder", "WoETargetEncoder", "CountVectorizer", "WordEmbedding", "TfIdf",
                 "HashOneHotEncoder", "OneHotEncoder"):
        featurization_config.add_blocked_transformers(name)
    with pytest.raises(ConfigError, match="Cannot block transformer"):
        featurization_config.blocked_transformers = ["Typo"]
    assert "LabelEncoder" in featurization_config.blocked_transformers  # a refused assignment changes nothing
    with pytest.raises(ConfigError, match="drop_columns must be column names"):
        featurization_config.drop_columns = [3]
