"""How the dashboards show each catalogue format: money to the cent it needs, percentages and their changes
in points, multiples, durations; a missing value is a dash whatever its type."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from dashboards import formatting as fmt
from lakehouse.metrics_catalog import FORMATS


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (12345.6, "$12,346"),
        (100.0, "$100"),
        (12.345, "$12.35"),  # half-up on the decimal value, not the binary float's 12.3449999...
        (0.16274, "$0.16"),
        (0.00614, "$0.0061"),  # a cost per generation in whole dollars would read "$0"
        (0.0, "$0"),
        (-7.5, "-$7.50"),
    ],
)
def test_money_shows_the_cents_an_amount_needs(amount: float, shown: str) -> None:
    assert fmt.money_to_scale(amount) == shown


def test_changes_carry_their_sign_and_percentages_change_in_points() -> None:
    assert fmt.metric_change(1.050382, 0.967174, "percent") == "+8.3 pp"
    assert fmt.metric_change(0.935165, 0.938031, "percent") == "-0.3 pp"
    assert fmt.metric_change(0.5, 0.5, "percent") == "0.0 pp"
    assert fmt.metric_change(7848.39, 5932.22, "currency_usd") == "+$1,916"
    assert fmt.metric_change(0.0061, 0.0064, "currency_usd") == "-$0.0003"
    assert fmt.metric_change(4.02, 4.89, "ratio") == "-0.87×"
    assert fmt.metric_change(89, 78, "count") == "+11"
    assert fmt.metric_change(0.36, 0.57, "months") == "-0.2 months"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(12345, "3h 25m"), (95, "1m 35s"), (7, "7s"), (4_000_000, "1,111h 6m"), (0, "0s")],
)
def test_engaged_time_reads_as_hours_minutes_seconds(seconds: int, shown: str) -> None:
    assert fmt.duration_seconds(seconds) == shown


def test_every_catalogue_format_has_a_display() -> None:
    shown = {name: fmt.metric_value(1234.5678, name) for name in FORMATS}
    assert shown == {
        "currency_usd": "$1,235",
        "percent": "123,456.8%",
        "count": "1,235",
        "number": "1,234.6",
        "ratio": "1,234.57×",
        "days": "1,234.6 days",
        "months": "1,234.6 months",
        "seconds": "20m 35s",
        "ms": "1,235 ms",
    }


@pytest.mark.parametrize("missing", [None, math.nan, np.float64("nan"), pd.NA, pd.NaT, "n/a"])
def test_a_missing_value_is_a_dash_and_has_no_change(missing: object) -> None:
    for name in FORMATS:
        assert fmt.metric_value(missing, name) == "—"
        assert fmt.metric_change(missing, 1.0, name) is None
        assert fmt.metric_change(1.0, missing, name) is None


def test_warehouse_scalars_are_shown_like_floats() -> None:
    assert fmt.metric_value(np.int64(2481), "count") == "2,481"
    assert fmt.metric_value(Decimal("0.49738"), "percent") == "49.7%"
    assert fmt.short_month(pd.Timestamp("2026-01-01").date()) == "Jan 2026"
