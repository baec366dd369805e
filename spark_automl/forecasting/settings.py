"""ForecastingParameters: Azure's forecasting settings, checked when they are made.

Accepted as an object (`forecasting_parameters=ForecastingParameters(...)`) or as the same
names passed straight to AutoMLConfig, as in Azure's SDK v1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Sequence

from .._validation import NONE, Interval, Options, Predicate, validate_parameters
from ..errors import ConfigError

SHORT_SERIES = ("auto", "pad", "drop", None)
AGGREGATIONS = ("sum", "max", "min", "mean")
STL_OPTIONS = ("season", "season_trend")

# The canonical long frame every forecasting module works on (statsforecast's convention).
SERIES_ID, TIME, TARGET = "unique_id", "ds", "y"


def _is_offset(value: str) -> bool:
    from pandas.tseries.frequencies import to_offset

    try:
        to_offset(value)
    except ValueError:
        return False
    return True


def _str_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)


def _lags(value: Any) -> bool:
    """An int >= 1, a list of them, or 'auto'."""
    if value == "auto":
        return True
    items = value if isinstance(value, (list, tuple)) else [value]
    return bool(items) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in items)


STR_OR_LIST = Predicate(lambda v: isinstance(v, str) or _str_list(v), "a column name or a list of column names")
LAGS = Predicate(_lags, "'auto', an int >= 1 or a list of ints >= 1")
POSITIVE_INT = Interval(int, 1, None)

CONSTRAINTS: dict[str, list] = {
    "time_column_name": [NONE, Predicate(lambda v: isinstance(v, str) and bool(v), "a column name (str)")],
    "time_series_id_column_names": [NONE, STR_OR_LIST],
    "forecast_horizon": [POSITIVE_INT, Options(("auto",))],
    "freq": [NONE, Predicate(lambda v: isinstance(v, (str, int)) and not isinstance(v, bool) and v != "",
                             "a pandas offset alias ('D', 'MS', 'W-SUN', 'h') or an int step")],
    "target_lags": [NONE, LAGS],
    "feature_lags": [NONE, Options(("auto",))],
    "target_rolling_window_size": [NONE, Interval(int, 2, None), Options(("auto",))],
    "seasonality": [Options(("auto",)), POSITIVE_INT],
    "time_step_unit": [NONE, Predicate(lambda v: isinstance(v, str) and _is_offset(v),
                                       "a pandas offset alias such as 'W', 'D', 'MS', 'QS' or 'h'")],
    "use_stl": [NONE, Options(STL_OPTIONS)],
    "country_or_region_for_holidays": [NONE, Predicate(lambda v: isinstance(v, str) and len(v) in (2, 3),
                                                        "an ISO country code such as 'US' or 'GB'")],
    "short_series_handling_configuration": [Options(SHORT_SERIES)],
    "target_aggregation_function": [NONE, Options(AGGREGATIONS)],
    "cv_step_size": [Options(("auto",)), POSITIVE_INT],
    "features_unknown_at_forecast_time": [NONE, STR_OR_LIST],
}


@dataclass
class ForecastingParameters:
    """Azure's forecasting settings (same names and defaults)."""

    time_column_name: str | None = None
    forecast_horizon: int | str = 1
    time_series_id_column_names: str | Sequence[str] | None = None
    freq: str | int | None = None
    target_lags: int | Sequence[int] | str | None = None
    feature_lags: str | None = None
    target_rolling_window_size: int | str | None = None
    seasonality: int | str = "auto"
    # Not Azure's (its time column is a date): what one step of an integer time column stands for ('W': weeks),
    # so that 'auto' seasonality follows the calendar (52 weeks a year) instead of the data's autocorrelation.
    time_step_unit: str | None = None
    use_stl: str | None = None
    country_or_region_for_holidays: str | None = None
    short_series_handling_configuration: str | None = "auto"
    target_aggregation_function: str | None = None
    cv_step_size: int | str = "auto"
    features_unknown_at_forecast_time: str | Sequence[str] | None = None

    def __post_init__(self) -> None:
        validate_parameters("ForecastingParameters", {name: getattr(self, name) for name in CONSTRAINTS}, CONSTRAINTS)
        if isinstance(self.time_series_id_column_names, str):
            self.time_series_id_column_names = [self.time_series_id_column_names]
        if isinstance(self.features_unknown_at_forecast_time, str):
            self.features_unknown_at_forecast_time = [self.features_unknown_at_forecast_time]
        if isinstance(self.target_lags, int):
            self.target_lags = [self.target_lags]
        if self.time_column_name is not None and self.time_column_name in (self.time_series_id_column_names or []):
            raise ConfigError(f"time_column_name {self.time_column_name!r} is also listed in "
                              "time_series_id_column_names; a column is either the time or a series id.")

    @property
    def horizon(self) -> int:
        """'auto' horizon: Azure picks 1 step when nothing else is known."""
        return 1 if self.forecast_horizon == "auto" else int(self.forecast_horizon)

    @property
    def id_columns(self) -> list[str]:
        return list(self.time_series_id_column_names or [])

    @property
    def unknown_features(self) -> list[str]:
        return list(self.features_unknown_at_forecast_time or [])

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in CONSTRAINTS}

    @classmethod
    def names(cls) -> list[str]:
        return list(CONSTRAINTS)
