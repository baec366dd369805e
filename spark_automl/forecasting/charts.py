"""Forecasting charts, one small panel per series (Agg canvas: thread-safe, no window).

- forecast_vs_actual: the last validation window, forecast against what happened.
- forecast_chart: the final model's next horizon after the recent history, with its 80/95 intervals.
Axes carry the time column's and the target's names; a panel is titled by its id columns' values
(the target's name for a single series).
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .settings import SERIES_ID, TARGET, TIME

MAX_PANELS = 6
_BAND_COLOURS = {80: 0.35, 95: 0.18}  # alpha of each interval band


def _panel_title(uid: str, id_columns: Sequence[str], target_name: str) -> str:
    if not id_columns:
        return target_name
    values = str(uid).split("|")
    if len(values) != len(id_columns):
        return str(uid)[:40]
    return ", ".join(f"{c}={v}" for c, v in zip(id_columns, values))[:60]


def _grid(n: int) -> tuple[Figure, int, int]:
    cols = 2 if n > 1 else 1
    rows = int(np.ceil(n / cols)) or 1
    fig = Figure(figsize=(5 * cols, 2.8 * rows), dpi=90)
    FigureCanvasAgg(fig)
    return fig, rows, cols


def _png(fig: Figure) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    fig.clear()
    return buf.getvalue()


def _axes_labels(ax, time_name: str, target_name: str, first: bool) -> None:
    ax.set_xlabel(time_name, fontsize=8)
    ax.set_ylabel(target_name, fontsize=8)
    ax.tick_params(labelsize=7)
    if first:
        ax.legend(fontsize=7)


def forecast_vs_actual(history: pd.DataFrame, scored: pd.DataFrame, season_length: int = 1,
                       time_name: str = "time", target_name: str = "value", id_columns: Sequence[str] = ()) -> bytes:
    """history: the rows before the origin; scored: unique_id, ds, y (actual), yhat. The series with
    the most scored points are shown, with up to 3 seasons of history."""
    ids = scored[SERIES_ID].value_counts().sort_index(kind="mergesort").sort_values(ascending=False, kind="mergesort")
    ids = list(ids.index[:MAX_PANELS])
    fig, rows, cols = _grid(len(ids))
    tail = max(3 * max(season_length, 1), 24)
    for k, uid in enumerate(ids):
        ax = fig.add_subplot(rows, cols, k + 1)
        h = history[history[SERIES_ID] == uid].tail(tail)
        s = scored[scored[SERIES_ID] == uid]
        ax.plot(h[TIME], h[TARGET], color="0.4", lw=1, label="history")
        ax.plot(s[TIME], s[TARGET], color="tab:blue", lw=1.5, marker=".", label="actual")
        ax.plot(s[TIME], s["yhat"], color="tab:orange", lw=1.5, marker=".", label="forecast")
        ax.set_title(f"{_panel_title(uid, id_columns, target_name)}: last validation window", fontsize=9)
        _axes_labels(ax, time_name, target_name, k == 0)
    return _png(fig)


def forecast_chart(history: pd.DataFrame, forecast: pd.DataFrame, season_length: int = 1, time_name: str = "time",
                   target_name: str = "value", id_columns: Sequence[str] = (), levels: Sequence[int] = (95, 80)) -> bytes:
    """history: unique_id, ds, y (the recent actuals); forecast: unique_id, ds, prediction and
    prediction_lower_L / prediction_upper_L per level, as ForecastingModel.forecast returns them."""
    return _png(forecast_figure(history, forecast, season_length, time_name, target_name, id_columns, levels))


def forecast_figure(history: pd.DataFrame, forecast: pd.DataFrame, season_length: int = 1, time_name: str = "time",
                    target_name: str = "value", id_columns: Sequence[str] = (),
                    levels: Sequence[int] = (95, 80)) -> Figure:
    ids = list(dict.fromkeys(forecast[SERIES_ID]))[:MAX_PANELS]
    fig, rows, cols = _grid(len(ids))
    tail = max(3 * max(season_length, 1), 24)
    for k, uid in enumerate(ids):
        ax = fig.add_subplot(rows, cols, k + 1)
        h = history[history[SERIES_ID] == uid].sort_values(TIME).tail(tail)
        f = forecast[forecast[SERIES_ID] == uid].sort_values(TIME)
        ax.plot(h[TIME], h[TARGET], color="0.3", lw=1, label="history")
        for level in levels:
            lower, upper = f"prediction_lower_{level}", f"prediction_upper_{level}"
            if lower in f.columns and f[lower].notna().any():
                ax.fill_between(f[TIME], f[lower].astype(float), f[upper].astype(float), color="tab:orange",
                                alpha=_BAND_COLOURS.get(level, 0.25), lw=0, label=f"{level}% interval")
        ax.plot(f[TIME], f["prediction"], color="tab:orange", lw=1.5, marker=".", label="forecast")
        ax.set_title(f"{_panel_title(uid, id_columns, target_name)}: forecast", fontsize=9)
        _axes_labels(ax, time_name, target_name, k == 0)
    return fig
