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
    chosen = choose_format(model, X.head(3))
    assert chosen.name == SKOPS and chosen.data, chosen.why
    assert all(t.startswith(("sklearn.", "numpy.", "builtins.")) for t in chosen.trusted), chosen.trusted


def test_a_home_made_estimator_keeps_cloudpickle_and_says_which_type():
    chosen = choose_format(HomeMade().fit(X, Y), X.head(3))
    assert chosen.name == CLOUDPICKLE and chosen.trusted is None and chosen.data is None and "HomeMade" in chosen.why


def test_the_logged_skops_model_is_dumped_once_and_loads_through_mlflow(tmp_path, monkeypatch):
    """The verified skops bytes are the ones written: MLflow's own skops save dumped and loaded the model a
    second time (~20 s for an ensemble of five large forests). The directory is a plain MLflow skops model."""
    import mlflow.pyfunc
    import mlflow.sklearn
    import skops.io as sio
    import yaml

    from spark_automl.tracking import _save_model

    dumps = []
    real_dumps, real_dump = sio.dumps, sio.dump
    monkeypatch.setattr(sio, "dumps", lambda obj, *a, **k: dumps.append("dumps") or real_dumps(obj, *a, **k))
    monkeypatch.setattr(sio, "dump", lambda obj, *a, **k: dumps.append("dump") or real_dump(obj, *a, **k))
    model = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression())]).fit(X, Y)
    path, tags = _save_model(str(tmp_path), "sklearn", model, X.head(3), None)
    assert dumps == ["dumps"] and tags["automl.model_format"] == SKOPS
    files = sorted(p.name for p in (tmp_path / "model").iterdir())
    assert "model.skops" in files and "model.pkl" not in files
    conf = yaml.safe_load((tmp_path / "model" / "MLmodel").read_text())
    assert conf["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert conf["flavors"]["sklearn"]["pickled_model"] == conf["flavors"]["python_function"]["model_path"] == "model.skops"
    back = mlflow.sklearn.load_model(path)
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    served = mlflow.pyfunc.load_model(path).predict(X)  # the serving loader reads the skops file too
    np.testing.assert_array_equal(served, model.predict(X))
