"""Forecasting metrics: the regression metrics pooled over every scored point, plus the
per-series ones (forecast MAPE, sMAPE, MASE) averaged over series, and their distribution.

MASE divides each series' MAE by the in-sample MAE of the seasonal naive forecast on that
series' own history (Hyndman & Koehler), so series of any scale count equally.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import compute_metrics
from .settings import SERIES_ID, TARGET

PER_SERIES = ("MASE", "forecast_symmetric_mean_absolute_percentage_error",
              "forecast_mean_absolute_percentage_error")
FORECAST_METRICS = PER_SERIES  # lower is better for all of them
QUANTILES = {"p10": 0.1, "median": 0.5, "p90": 0.9}


def naive_scales(history: pd.DataFrame, season_length: int) -> pd.Series:
    """Per series: mean |y_t - y_{t-m}| over the history (m = season, or 1 when too short)."""
    def scale(y: pd.Series) -> float:
        values = y.to_numpy(dtype=np.float64)
        m = season_length if len(values) > season_length > 1 else 1
        diffs = np.abs(values[m:] - values[:-m])
        diffs = diffs[np.isfinite(diffs)]
        return float(diffs.mean()) if len(diffs) and diffs.mean() > 0 else np.nan

    return history.groupby(SERIES_ID, sort=False)[TARGET].apply(scale)


def row_scales(frame: pd.DataFrame, scales: pd.Series) -> np.ndarray:
    """Each row's series scale; a series without one (constant history) takes the panel's median."""
    finite = scales[np.isfinite(scales.to_numpy(dtype=np.float64))]
    default = float(finite.median()) if len(finite) else 1.0
    out = frame[SERIES_ID].map(scales).to_numpy(dtype=np.float64)
    return np.where(np.isfinite(out) & (out > 0), out, default if default > 0 else 1.0)


def signed_normalised_errors(scored: pd.DataFrame, yhat: np.ndarray, scales: pd.Series) -> np.ndarray:
    """(actual - forecast) / (series scale x sqrt(step + 1)): the unit the conformal intervals are built in."""
    err = scored[TARGET].to_numpy(dtype=np.float64) - np.asarray(yhat, dtype=np.float64)
    return err / (row_scales(scored, scales) * np.sqrt(scored["_step"].to_numpy(dtype=np.float64) + 1.0))


CRPS_TAUS = np.linspace(0.025, 0.975, 39)  # the quantile grid whose mean pinball loss approximates the CRPS


def scaled_crps(scored: pd.DataFrame, yhat: np.ndarray, scales: pd.Series, origin: np.ndarray) -> float:
    """CRPS of the split-conformal predictive distribution around the forecasts (the intervals every model
    gets: yhat +/- q x scale x sqrt(step + 1)), in units of each series' seasonal-naive scale (as MASE),
    averaged over series. Cross-fitted: an origin's rows are scored with quantiles of the other origins'
    errors, so no row calibrates its own interval (one origin: in-sample)."""
    z = signed_normalised_errors(scored, yhat, scales)
    origin = np.asarray(origin)
    ok = np.isfinite(z)
    if not ok.any():
        return float("nan")
    crps = np.full(len(z), np.nan)
    levels = np.abs(2 * CRPS_TAUS - 1)
    for k in np.unique(origin[ok]):
        rows = ok & (origin == k)
        calib = np.abs(z[ok & (origin != k)])
        if not len(calib):
            calib = np.abs(z[ok])
        q = np.sign(CRPS_TAUS - 0.5) * np.quantile(calib, levels)  # the predictive quantiles, normalised
        diff = z[rows][:, None] - q[None, :]
        pinball = np.maximum(CRPS_TAUS * diff, (CRPS_TAUS - 1.0) * diff).mean(axis=1)
        crps[rows] = 2.0 * pinball * np.sqrt(scored["_step"].to_numpy(dtype=np.float64)[rows] + 1.0)
    per_series = pd.Series(crps).groupby(scored[SERIES_ID].to_numpy()).mean().dropna()
    return float(per_series.mean()) if len(per_series) else float("nan")


def _per_series(frame: pd.DataFrame, scales: pd.Series) -> pd.DataFrame:
    a, p = frame[TARGET].to_numpy(np.float64), frame["yhat"].to_numpy(np.float64)
    err = np.abs(a - p)
    denom = np.abs(a) + np.abs(p)
    parts = pd.DataFrame({
        SERIES_ID: frame[SERIES_ID].to_numpy(),
        "abs_err": err,
        "smape": np.where(denom > 0, 200.0 * err / np.where(denom > 0, denom, 1.0), 0.0),
        "ape": np.where(a != 0, 100.0 * err / np.where(a != 0, np.abs(a), 1.0), np.nan),
    })
    out = parts.groupby(SERIES_ID, sort=True).agg(mae=("abs_err", "mean"), smape=("smape", "mean"),
                                                  mape=("ape", "mean"))
    out["MASE"] = out["mae"] / scales.reindex(out.index)
    return out.rename(columns={"smape": "forecast_symmetric_mean_absolute_percentage_error",
                               "mape": "forecast_mean_absolute_percentage_error"})


def forecast_metrics(scored: pd.DataFrame, scales: pd.Series, y_range: float,
                     also: tuple[str, ...] = ()) -> tuple[dict[str, float], pd.DataFrame]:
    """scored: unique_id, y (actual), yhat for every scored point of every origin.
    Returns (scalar metrics, per-series table)."""
    metrics = compute_metrics("forecasting", scored[TARGET].to_numpy(np.float64), scored["yhat"].to_numpy(np.float64),
                              y_range=y_range, also=also)
    table = _per_series(scored, scales)
    for name in PER_SERIES:
        values = table[name].replace([np.inf, -np.inf], np.nan).dropna()
        metrics[name] = float(values.mean()) if len(values) else float("nan")
        for label, q in QUANTILES.items():
            metrics[f"series_{label}_{name}"] = float(values.quantile(q)) if len(values) else float("nan")
    return metrics, table


def pinball_loss(y_true, q_pred, quantile: float) -> float:
    """Mean quantile (pinball) loss of predicted `quantile` values: what a quantile forecast minimises.
    Averaged over a grid of quantiles it approximates the CRPS of the predictive distribution."""
    y, p = np.asarray(y_true, dtype=float), np.asarray(q_pred, dtype=float)
    diff = y - p
    return float(np.nanmean(np.maximum(quantile * diff, (quantile - 1.0) * diff)))


def interval_coverage(y_true, lower, upper) -> float:
    """Share of actuals inside [lower, upper]: an 80% interval should hold about 80% of them."""
    y, lo, hi = (np.asarray(a, dtype=float) for a in (y_true, lower, upper))
    keep = np.isfinite(y) & np.isfinite(lo) & np.isfinite(hi)
    return float(np.mean((y[keep] >= lo[keep]) & (y[keep] <= hi[keep]))) if keep.any() else float("nan")
