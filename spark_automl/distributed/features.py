"""The fitted AutoFeaturizer applied inside Spark: the same statistics and the same code as
the search, batch by batch on executors, so the full data never reaches the driver."""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql.types import ArrayType, DoubleType, FloatType, StructField, StructType

from ..spark_utils import col

FEATURES, LABEL, WEIGHT = "features", "label", "weight"
SCHEMA = StructType([StructField(FEATURES, ArrayType(FloatType(), False)), StructField(LABEL, DoubleType()),
                     StructField(WEIGHT, DoubleType())])


def features_frame(df: DataFrame, featurizer, feature_columns: Sequence[str], label: str,
                   weight: str | None = None, classes: Sequence | None = None) -> DataFrame:
    """(features array<float>, label double, weight double) for every row of df.

    Classification labels become their index in `classes` (the codes the learners train on);
    rows without a weight get 1."""
    columns = [*feature_columns, label, *([weight] if weight else [])]
    index = {c: i for i, c in enumerate(classes)} if classes is not None else None

    def featurize(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            X = featurizer.transform(pdf[list(feature_columns)])
            y = pdf[label].map(index) if index is not None else pdf[label]
            w = pdf[weight].to_numpy(dtype=np.float64) if weight else np.ones(len(pdf))
            yield pd.DataFrame({FEATURES: list(np.asarray(X, dtype=np.float32)),
                                LABEL: y.to_numpy(dtype=np.float64), WEIGHT: w})

    return df.select(*[col(c) for c in columns]).mapInPandas(featurize, SCHEMA)
