"""What a metric tile shows, worked out from a catalogue query's rows: pure functions, no Streamlit.

A tile shows the latest period of its series that is over (the running month only when the range holds
no other), the change against the period before it, and the series up to it as a trend. The period before
is the calendar one (the month before; for a daily snapshot such as MAU the day 28 days before, one MAU
window back), never merely the previous row: after a gap that would be an older period and the change a
lie. A running month is compared only for metrics that do not grow with the days counted (a balance, a
ratio): ad spend of three days is not set against a whole month's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from dashboards import formatting as fmt
from dashboards.queries import period_end
from lakehouse.metrics_catalog import Catalog, Metric

DAILY_LOOKBACK = timedelta(days=28)


@dataclass(frozen=True)
class Reading:
    value: object | None
    previous: object | None
    period: date | None
    previous_period: date | None
    trend: tuple[float, ...]
    running: bool  # the period is not over as of the data's day

    def period_words(self, grain: str | None) -> str:
        if self.period is None:
            return "no data in the chosen range"
        shown = fmt.month(self.period) if grain == "month" else _week_or_day(self.period, grain)
        return f"{shown} (to date)" if self.running else shown

    def comparison_words(self, grain: str | None) -> str:
        if self.previous_period is None:
            return ""
        if grain == "month":
            return f"vs {fmt.month(self.previous_period)}"
        return f"vs {_week_or_day(self.previous_period, grain)}"


def _week_or_day(day: date, grain: str | None) -> str:
    return f"week of {fmt.day(day)}" if grain == "week" else fmt.day(day)


def grows_with_days(catalog: Catalog, metric: Metric) -> bool:
    """A sum or count over the period's days (spend, enrollments), as opposed to a balance or a ratio."""
    return metric.type in ("simple", "derived") and not catalog.native_grain_only(metric)


def reading(
    frame: pd.DataFrame, column: str, grain: str | None, as_of: date | None, *, grows: bool
) -> Reading:
    """The tile of `column` over `frame` (one row per `period`, already narrowed to one series).

    The period shown is the latest one that is over as of the data's day `as_of`; only when the range
    holds none is it the running one.
    """
    if frame.empty or "period" not in frame:
        return Reading(None, None, None, None, (), False)
    rows = frame.assign(period=pd.to_datetime(frame["period"]).dt.date).sort_values("period")
    period = shown_period(list(rows["period"]), grain, as_of)
    latest = rows[rows["period"] == period].iloc[0]
    wanted = previous_period(period, grain)
    earlier = rows[rows["period"] == wanted]
    running = as_of is not None and period_end(period, grain) > as_of
    compared = not earlier.empty and not (running and grows)
    shown = rows[rows["period"] <= period]
    return Reading(
        value=_plain(latest[column]),
        previous=_plain(earlier.iloc[0][column]) if compared else None,
        period=period,
        previous_period=wanted if compared else None,
        trend=tuple(float(v) for v in shown[column] if _plain(v) is not None),
        running=running,
    )


def shown_period(periods: list[date], grain: str | None, as_of: date | None) -> date:
    """The latest of the (sorted) periods that is over as of `as_of`; the latest one if none is."""
    over = [day for day in periods if as_of is None or period_end(day, grain) <= as_of]
    return (over or periods)[-1]


def previous_period(period: date, grain: str | None) -> date:
    if grain == "month":
        return (period.replace(day=1) - timedelta(days=1)).replace(day=1)
    if grain == "week":
        return period - timedelta(days=7)
    return period - DAILY_LOOKBACK


def _plain(value: object) -> object | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
