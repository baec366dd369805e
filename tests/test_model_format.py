"""skops where every type in the model is from a trusted library, cloudpickle otherwise, with the reason."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from spark_automl.model_format import CLOUDPICKLE, SKOPS, choose_format

X = pd.DataFrame({"a": np.arange(40.0), "b": np.sin(np.arange(40.0))})
Y = np.array(["n", "y"] * 20)


class HomeMade(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), 2), 0.5)


def test_a_model_of_trusted_libraries_is_saved_with_skops():
    model = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())]).fit(X, Y)
    chosen, trusted, why = choose_format(model, X.head(3))
    assert chosen == SKOPS and all(t.startswith(("sklearn.", "numpy.", "builtins.")) for t in trusted), trusted


def test_a_home_made_estimator_keeps_cloudpickle_and_says_which_type():
    chosen, trusted, why = choose_format(HomeMade().fit(X, Y), X.head(3))
    assert chosen == CLOUDPICKLE and trusted is None and "HomeMade" in why
