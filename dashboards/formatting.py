"""How numbers look to people on the dashboards: pure functions, no Streamlit, no I/O.

A missing value (None or NaN) shows as an em dash rather than "0" or "nan", so an undefined metric
(METRICS.md: division by zero is null) is never mistaken for a measured zero.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

MISSING = "—"


def is_missing(value: object) -> bool:
    # NaN comes from a SQL NULL in a float column; infinity has no honest display either.
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _round_half_up(value: float, places: int = 0) -> Decimal:
    # Python's own rounding is half-to-even on binary floats ($2.50 -> "$2"); people expect "$3".
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _signed(text: str, negative: bool, zero: bool, signed: bool) -> str:
    if negative:
        return "-" + text
    if signed and not zero:
        return "+" + text
    return text


def money(value: float | None, *, signed: bool = False, places: int = 0) -> str:
    """US dollars with thousands separators: 12345.6 -> "$12,346"; signed=True for deltas."""
    if is_missing(value):
        return MISSING
    rounded = _round_half_up(float(value), places)
    return _signed(f"${abs(rounded):,.{places}f}", rounded < 0, rounded == 0, signed)


def money_to_scale(value: float | None, *, signed: bool = False) -> str:
    """Dollars with as many cents as the amount needs: "$12,346", "$12.35", "$0.16", "$0.0031".

    A cost per generation is a fraction of a cent; shown in whole dollars every one would read "$0".
    """
    if is_missing(value):
        return MISSING
    size = abs(float(value))
    places = 0 if size >= 100 or size == 0 else 2 if size >= 0.1 else 4
    return money(value, signed=signed, places=places)


def count(value: float | None, *, signed: bool = False) -> str:
    """A whole number with thousands separators: 1234 -> "1,234"."""
    if is_missing(value):
        return MISSING
    rounded = _round_half_up(float(value))
    return _signed(f"{abs(rounded):,.0f}", rounded < 0, rounded == 0, signed)


def percent(ratio: float | None, *, places: int = 1) -> str:
    """A ratio shown as a percentage: 0.4973 -> "49.7%"."""
    if is_missing(ratio):
        return MISSING
    return f"{_round_half_up(float(ratio) * 100, places):,.{places}f}%"


def percent_points(difference: float | None) -> str:
    """The change of a percentage, in points: 0.012 -> "+1.2 pp" (a "+1.2%" would read as relative)."""
    if is_missing(difference):
        return MISSING
    rounded = _round_half_up(float(difference) * 100, 1)
    return _signed(f"{abs(rounded):,.1f} pp", rounded < 0, rounded == 0, True)


def number(value: float | None, *, signed: bool = False, places: int = 1) -> str:
    """A fractional quantity (attributed conversions, tokens per generation): 1234.56 -> "1,234.6"."""
    if is_missing(value):
        return MISSING
    rounded = _round_half_up(float(value), places)
    return _signed(f"{abs(rounded):,.{places}f}", rounded < 0, rounded == 0, signed)


def multiple(value: float | None, *, signed: bool = False) -> str:
    """A return on spend: 2.345 -> "2.35×"."""
    if is_missing(value):
        return MISSING
    return number(value, signed=signed, places=2) + "×"


def duration_days(value: float | None, *, signed: bool = False) -> str:
    return MISSING if is_missing(value) else f"{number(value, signed=signed)} days"


def duration_months(value: float | None, *, signed: bool = False) -> str:
    return MISSING if is_missing(value) else f"{number(value, signed=signed)} months"


def milliseconds(value: float | None, *, signed: bool = False) -> str:
    return MISSING if is_missing(value) else f"{count(value, signed=signed)} ms"


def duration_seconds(value: float | None, *, signed: bool = False) -> str:
    """Engaged time: 12345 -> "3h 25m", 95 -> "1m 35s"; hours keep their thousands separator."""
    if is_missing(value):
        return MISSING
    total = int(_round_half_up(abs(float(value))))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        text = f"{hours:,}h {minutes}m"
    elif minutes:
        text = f"{minutes}m {seconds}s"
    else:
        text = f"{seconds}s"
    return _signed(text, float(value) < 0 and total > 0, total == 0, signed)


# The catalogue's `format` of a metric (lakehouse.metrics_catalog.FORMATS) -> how its value reads.
_BY_FORMAT = {
    "currency_usd": money_to_scale,
    "percent": lambda value, signed=False: percent(value),
    "count": count,
    "number": number,
    "ratio": multiple,
    "days": duration_days,
    "months": duration_months,
    "seconds": duration_seconds,
    "ms": milliseconds,
}


def metric_value(value: object, metric_format: str) -> str:
    """A metric's value as its catalogue format says it reads."""
    return _BY_FORMAT[metric_format](_plain(value))


def metric_change(current: object, previous: object, metric_format: str) -> str | None:
    """The change from `previous` to `current` in the metric's format; None when either is missing.

    A percentage changes by points, not by a percentage of itself.
    """
    current, previous = _plain(current), _plain(previous)
    if is_missing(current) or is_missing(previous):
        return None
    difference = float(current) - float(previous)
    if metric_format == "percent":
        return percent_points(difference)
    return _BY_FORMAT[metric_format](difference, signed=True)


def _plain(value: object) -> float | None:
    # Warehouse values arrive as numpy scalars, Decimals or pandas' NA; every formatter takes a float.
    if value is None:
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(result) else result


def day(value: date | datetime | None) -> str:
    return MISSING if value is None else value.strftime("%Y-%m-%d")


def month(value: date | datetime | None) -> str:
    return MISSING if value is None else value.strftime("%B %Y")


def short_month(value: date | datetime | None) -> str:
    return MISSING if value is None else value.strftime("%b %Y")


def timestamp_utc(value: datetime | None) -> str:
    """A UTC timestamp to the minute; the warehouse stores them naive, in UTC by convention."""
    return MISSING if value is None else value.strftime("%Y-%m-%d %H:%M") + " UTC"


def lake_versions(raw: str | None) -> str:
    """The build's Delta versions, '{"silver.users": 3}' -> "silver.users v3", sorted by table.

    Shown as given when it is not a JSON object: the caption must not break the page.
    """
    if not raw:
        return MISSING
    try:
        versions = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(versions, dict):
        return raw
    if not versions:
        return MISSING
    return ", ".join(f"{table} v{version}" for table, version in sorted(versions.items()))
