"""The forecast chart: history, forecast and both interval bands per series, named axes and panels."""

import numpy as np
import pandas as pd
import pytest

from spark_automl.forecasting.charts import forecast_chart, forecast_figure, forecast_vs_actual
from spark_automl.forecasting.settings import SERIES_ID, TARGET, TIME

pytestmark = pytest.mark.extra("forecast")


def _frames(ids):
    times = pd.date_range("2020-01-01", periods=30, freq="MS")
    history = pd.concat([pd.DataFrame({SERIES_ID: uid, TIME: times, TARGET: np.arange(30.0) + k})
                         for k, uid in enumerate(ids)], ignore_index=True)
    future = pd.date_range("2022-07-01", periods=6, freq="MS")
    forecast = pd.concat([pd.DataFrame({SERIES_ID: uid, TIME: future, "prediction": 30.0 + k,
                                        "prediction_lower_80": 28.0, "prediction_upper_80": 32.0 + k,
                                        "prediction_lower_95": 26.0, "prediction_upper_95": 34.0 + k})
                          for k, uid in enumerate(ids)], ignore_index=True)
    return history, forecast


def test_a_panel_per_series_with_history_forecast_and_two_bands_on_named_axes():
    history, forecast = _frames(["north|A", "south|B"])
    fig = forecast_figure(history, forecast, 12, time_name="month", target_name="sales", id_columns=["region", "store"])
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["region=north, store=A: forecast", "region=south, store=B: forecast"]
    assert all(ax.get_xlabel() == "month" and ax.get_ylabel() == "sales" for ax in axes)
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["history", "95% interval", "80% interval",
                                                                       "forecast"]
    bands = axes[1].collections
    assert len(bands) == 2  # 95% and 80%
    top = max(path.vertices[:, 1].max() for path in bands[0].get_paths())
    assert top == pytest.approx(35.0)  # the second series' own upper_95 (34 + 1)
    assert len(axes[0].lines[0].get_xdata()) == 30  # three seasons of history, at least 24 points


def test_a_single_series_is_titled_by_its_target_and_the_pngs_render():
    history, forecast = _frames(["__single__"])
    assert forecast_figure(history, forecast, time_name="month", target_name="passengers").axes[0].get_title() == \
        "passengers: forecast"
    assert forecast_chart(history, forecast).startswith(b"\x89PNG")
    scored = forecast.rename(columns={"prediction": "yhat"}).assign(**{TARGET: 31.0})
    assert forecast_vs_actual(history, scored, 12, "month", "passengers").startswith(b"\x89PNG")
