"""Forecasts for the series the search could not use: every requested series gets one.

A series shorter than the rolling-origin validation needs is left out of the search (Azure's
short_series_handling 'drop' / 'auto'), but it is still forecast, by a simple model its length
supports. The model is chosen for the short series together by one holdout: each series' last
`holdout` points (a quarter of its length, at most the horizon) are forecast from the rest by every
candidate, and the lowest mean absolute scaled error wins. A seasonal candidate on a series shorter
than two seasons falls back to its non-seasonal version (statistical.forecast_series).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .settings import SERIES_ID, TARGET, TIME

CANDIDATES = ("SeasonalNaive", "ExponentialSmoothing", "Naive", "Average")
MIN_VALIDATED = 4  # points a series needs for a one-point holdout with 3 points of history
DEFAULT = "Naive"  # with nothing to validate on: the last value


@dataclass
class FallbackChoice:
    model: str
    scores: dict[str, float]  # candidate -> pooled MASE on the short series' holdout
    validated_series: int


def _holdout(frame: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(history, last points) of each series long enough to validate on."""
    sizes = frame.groupby(SERIES_ID)[TIME].transform("size")
    frame = frame[sizes >= MIN_VALIDATED]
    sizes = sizes[sizes >= MIN_VALIDATED]
    k = np.minimum(horizon, np.maximum(1, sizes // 4))
    position = frame.groupby(SERIES_ID).cumcount()
    held = position >= sizes - k
    return frame[~held], frame[held]


def _scales(history: pd.DataFrame) -> pd.Series:
    """Each series' in-sample one-step naive error (MASE's denominator), 1 where it is 0 or undefined."""
    diffs = history.groupby(SERIES_ID)[TARGET].diff().abs()
    scale = diffs.groupby(history[SERIES_ID]).mean()
    return scale.where(scale > 0).fillna(1.0)


def choose_fallback(short: pd.DataFrame, season_length: int, horizon: int, freq) -> FallbackChoice:
    """The candidate with the lowest pooled MASE on the short series' own holdout."""
    from .statistical import forecast_series

    if short.empty:
        return FallbackChoice(DEFAULT, {}, 0)
    history, held = _holdout(short[[SERIES_ID, TIME, TARGET]], horizon)
    held = held[held[TARGET].notna()]
    if held.empty:
        return FallbackChoice(DEFAULT, {}, 0)
    steps = int(held.groupby(SERIES_ID).size().max())
    scales = _scales(history)
    scores = {}
    for model in CANDIDATES:
        try:
            out = forecast_series(history, model, steps, freq, season_length, levels=(80,))
        except Exception:  # noqa: BLE001 - a candidate that cannot fit these series is not chosen
            continue
        scored = held.merge(out[[SERIES_ID, TIME, "yhat"]], on=[SERIES_ID, TIME], how="left")
        error = (scored[TARGET] - scored["yhat"]).abs() / scored[SERIES_ID].map(scales)
        if error.notna().all():
            scores[model] = float(error.mean())
    best = min(scores, key=scores.get) if scores else DEFAULT
    return FallbackChoice(best, scores, int(held[SERIES_ID].nunique()))


def series_table(main: list[str], main_model: str, fallback: dict[str, int], choice: FallbackChoice | None,
                 min_len: int, per_series: dict[str, str] | None = None) -> pd.DataFrame:
    """Which model forecasts each series, and why. per_series: PerSeriesBest's series -> model name."""
    per_series = per_series or {}
    chose = f"searched: {main_model} chose it, the best model for this series by rolling-origin CV"
    rows = [(uid, per_series[uid], chose) if uid in per_series else
            (uid, main_model, "searched: the run's best model by rolling-origin CV") for uid in main]
    if fallback and choice is not None:
        tried = ", ".join(f"{m} {s:.3f}" for m, s in sorted(choice.scores.items(), key=lambda kv: kv[1]))
        why = (f"shorter than the {min_len} steps the validation needs, so left out of the search; fallback chosen "
               f"on the short series' holdout (MASE: {tried})" if tried else
               f"shorter than the {min_len} steps the validation needs and too short to validate a fallback")
        rows += [(uid, choice.model, f"{n} steps: {why}") for uid, n in fallback.items()]
    return pd.DataFrame(rows, columns=[SERIES_ID, "model", "reason"])
