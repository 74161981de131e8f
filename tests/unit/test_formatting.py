from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from dashboards import formatting as fmt


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (12345.6, "$12,346"),
        (0.4, "$0"),
        # half-up, as people round money; Python's round() would give "$2" and "$0"
        (2.5, "$3"),
        (0.5, "$1"),
        (1234567.49, "$1,234,567"),
        (-1054.05, "-$1,054"),
        (-0.4, "$0"),
    ],
)
def test_money_rounds_to_whole_dollars_with_separators(amount: float, shown: str) -> None:
    assert fmt.money(amount) == shown


def test_signed_money_marks_gains_and_losses_but_not_zero() -> None:
    assert fmt.money(1054.05, signed=True) == "+$1,054"
    assert fmt.money(-1054.05, signed=True) == "-$1,054"
    assert fmt.money(0.2, signed=True) == "$0"


def test_count_and_percent() -> None:
    assert fmt.count(1234) == "1,234"
    assert fmt.count(1, signed=True) == "+1"
    assert fmt.count(-2, signed=True) == "-2"
    assert fmt.percent(0.4973) == "49.7%"
    assert fmt.percent(0.0462) == "4.6%"
    assert fmt.percent(0.00049) == "0.0%"
    assert fmt.percent(1.0) == "100.0%"


@pytest.mark.parametrize("missing", [None, math.nan, math.inf])
def test_a_missing_value_is_a_dash_not_zero(missing: float | None) -> None:
    assert fmt.money(missing) == "—"
    assert fmt.count(missing) == "—"
    assert fmt.percent(missing) == "—"


def test_dates() -> None:
    assert fmt.day(date(2026, 2, 6)) == "2026-02-06"
    assert fmt.month(date(2026, 2, 1)) == "February 2026"
    assert fmt.timestamp_utc(datetime(2026, 2, 7, 3, 4, 5)) == "2026-02-07 03:04 UTC"
    assert fmt.day(None) == "—"


def test_lake_versions_sorted_by_table() -> None:
    raw = '{"silver.subscriptions": 3, "silver.events": 12}'
    assert fmt.lake_versions(raw) == "silver.events v12, silver.subscriptions v3"


@pytest.mark.parametrize(("raw", "shown"), [(None, "—"), ("", "—"), ("{}", "—"), ("not json", "not json")])
def test_lake_versions_never_breaks_the_caption(raw: str | None, shown: str) -> None:
    assert fmt.lake_versions(raw) == shown
