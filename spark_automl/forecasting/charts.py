"""Forecast vs actual, one small panel per series (Agg canvas: thread-safe, no window)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .settings import SERIES_ID, TARGET, TIME

MAX_PANELS = 6


def forecast_vs_actual(history: pd.DataFrame, scored: pd.DataFrame, season_length: int = 1) -> bytes:
    """history: the rows before the origin; scored: unique_id, ds, y (actual), yhat. The
    series with the most scored points are shown, with up to 3 seasons of history."""
    ids = scored[SERIES_ID].value_counts().sort_index(kind="mergesort").sort_values(ascending=False, kind="mergesort")
    ids = list(ids.index[:MAX_PANELS])
    cols = 2 if len(ids) > 1 else 1
    rows = int(np.ceil(len(ids) / cols)) or 1
    fig = Figure(figsize=(5 * cols, 2.6 * rows), dpi=90)
    FigureCanvasAgg(fig)
    tail = max(3 * max(season_length, 1), 24)
    for k, uid in enumerate(ids):
        ax = fig.add_subplot(rows, cols, k + 1)
        h = history[history[SERIES_ID] == uid].tail(tail)
        s = scored[scored[SERIES_ID] == uid]
        ax.plot(h[TIME], h[TARGET], color="0.4", lw=1, label="history")
        ax.plot(s[TIME], s[TARGET], color="tab:blue", lw=1.5, marker=".", label="actual")
        ax.plot(s[TIME], s["yhat"], color="tab:orange", lw=1.5, marker=".", label="forecast")
        ax.set_title(str(uid)[:40], fontsize=9)
        ax.tick_params(labelsize=7)
        if k == 0:
            ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    fig.clear()
    return buf.getvalue()
