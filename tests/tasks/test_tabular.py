"""Model eligibility: which registry entries a search may use, and why others are skipped."""

import pytest

from spark_automl import AutoMLConfig, ConfigError
from spark_automl.tasks.tabular import eligible_specs


def test_slow_models_are_skipped_on_large_data_unless_explicitly_allowed():
    specs, skipped = eligible_specs(AutoMLConfig(task="classification"), 50_000, False)
    assert "SVM" in skipped and "KNN" in skipped and "LightGBM" in {s.name for s in specs}
    specs, skipped = eligible_specs(AutoMLConfig(task="classification", allowed_models=["SVM"]), 50_000, False)
    assert [s.name for s in specs] == ["SVM"] and not skipped


def test_weights_leave_no_model_raise_a_clear_error():
    cfg = AutoMLConfig(task="regression", allowed_models=["KNN", "LassoLars"])
    with pytest.raises(ConfigError, match="KNN: does not support sample weights"):
        eligible_specs(cfg, 100, True)
