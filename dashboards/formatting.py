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


def money(value: float | None, *, signed: bool = False) -> str:
    """Whole US dollars with thousands separators: 12345.6 -> "$12,346"; signed=True for deltas."""
    if is_missing(value):
        return MISSING
    rounded = _round_half_up(float(value))
    return _signed(f"${abs(rounded):,.0f}", rounded < 0, rounded == 0, signed)


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


def day(value: date | datetime | None) -> str:
    return MISSING if value is None else value.strftime("%Y-%m-%d")


def month(value: date | datetime | None) -> str:
    return MISSING if value is None else value.strftime("%B %Y")


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
