"""The MRR family of finance marts on the tiny seeded world, checked against the simulator's ground truth.

fct_mrr has list MRR (the truth's `mrr`) and MRR after recurring discounts (its `discounted_mrr`).
METRICS.md labels movements and measures retention on MRR after discounts, while the truth's own
`mrr_movements` labels list MRR; so the expected movements and retention are derived here from
`discounted_mrr` with the METRICS.md rules, written a second time in Python. The same labelling applied
to list MRR must give the truth's `mrr_movements`, which checks this second writing against the
simulator's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

import pytest

from ingestion import ground_truth
from tests.e2e.warehouse import query

pytestmark = pytest.mark.slow

TOLERANCE = 1e-6


def _months_before(month: date, k: int) -> date:
    index = month.year * 12 + month.month - 1 - k
    return date(index // 12, index % 12 + 1, 1)


def _series(world, column: str) -> dict[tuple[str, date], float]:
    return {(r["customer_id"], r["month"]): r[column] for r in ground_truth.mrr(world)}


def _movements(mrr: dict[tuple[str, date], float]) -> dict[tuple[str, date], tuple[str, float, float]]:
    """(customer, month) → (label, mrr, previous mrr), for the months with a movement."""
    by_customer: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for (customer, month), value in mrr.items():
        by_customer[customer].append((month, value))
    out = {}
    for customer, history in by_customer.items():
        previous, ever_paid = 0.0, False
        for month, value in sorted(history):
            label = None
            if value > 0 and previous == 0:
                label = "reactivation" if ever_paid else "new"
            elif value > 0 and previous > 0 and value != previous:
                label = "expansion" if value > previous else "contraction"
            elif value == 0 and previous > 0:
                label = "churn"
            if label is not None:
                out[(customer, month)] = (label, value, previous)
            ever_paid = ever_paid or value > 0
            previous = value
    return out


def _close(actual: float | None, expected: float | None) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    return math.isclose(actual, expected, abs_tol=TOLERANCE)


def test_list_and_discounted_mrr_match_ground_truth(built, world) -> None:
    settings = built[0]
    list_mrr, discounted = _series(world, "mrr"), _series(world, "discounted_mrr")
    rows = query(settings, "select customer_id, month, mrr, list_mrr, arr from finance.fct_mrr")
    actual = {(c, m): (mrr, list_, arr) for c, m, mrr, list_, arr in rows}
    assert actual.keys() == list_mrr.keys()
    for key, (mrr, list_, arr) in actual.items():
        assert math.isclose(list_, list_mrr[key], abs_tol=TOLERANCE), key
        assert math.isclose(mrr, discounted[key], abs_tol=TOLERANCE), key
        assert math.isclose(arr, 12 * mrr), key


def test_the_world_has_discounts_that_lower_mrr(world) -> None:
    """Without them the comparison above could not tell MRR from list MRR."""
    list_mrr, discounted = _series(world, "mrr"), _series(world, "discounted_mrr")
    assert any(discounted[key] < list_mrr[key] - TOLERANCE for key in list_mrr)


def test_python_labelling_is_the_simulators_on_list_mrr(world) -> None:
    truth = {
        (r["customer_id"], r["month"]): (r["movement"], r["mrr"], r["previous_mrr"])
        for r in ground_truth.mrr_movements(world)
    }
    assert _movements(_series(world, "mrr")) == truth


def test_movements_match_ground_truth_after_discounts(built, world) -> None:
    settings = built[0]
    expected = _movements(_series(world, "discounted_mrr"))
    rows = query(
        settings,
        "select customer_id, month, movement, mrr, previous_mrr, amount from finance.fct_mrr_movements",
    )
    actual = {(c, m): (label, mrr, previous, amount) for c, m, label, mrr, previous, amount in rows}
    assert {k: v[0] for k, v in actual.items()} == {k: v[0] for k, v in expected.items()}
    for key, (_, mrr, previous, amount) in actual.items():
        _, expected_mrr, expected_previous = expected[key]
        assert math.isclose(mrr, expected_mrr, abs_tol=TOLERANCE), key
        assert math.isclose(previous, expected_previous, abs_tol=TOLERANCE), key
        assert math.isclose(amount, expected_mrr - expected_previous, abs_tol=TOLERANCE), key
    assert {label for label, *_ in actual.values()} >= {"new", "churn"}


def test_every_month_total_is_the_previous_plus_its_movements(built) -> None:
    settings = built[0]
    totals = dict(query(settings, "select month, sum(mrr) from finance.fct_mrr group by month"))
    moved = dict(query(settings, "select month, sum(amount) from finance.fct_mrr_movements group by month"))
    for month, total in totals.items():
        previous = totals.get(_months_before(month, 1), 0.0)
        assert math.isclose(total, previous + moved.get(month, 0.0), abs_tol=TOLERANCE), month


def _ratio(numerator: float, denominator: float | None) -> float | None:
    return numerator / denominator if denominator else None


def _expected_retention(mrr: dict[tuple[str, date], float]) -> dict[tuple[date, int], dict]:
    """(month, period months) → the cohort measures and, for one month, the month's churn and ARPA."""
    movements = _movements(mrr)
    by_month: dict[date, dict[str, float]] = defaultdict(dict)
    for (customer, month), value in mrr.items():
        by_month[month][customer] = value
    first = min(by_month)
    expected = {}
    for month in sorted(by_month):
        for k in (1, 12):
            start = _months_before(month, k)
            row: dict[str, float | None] = {}
            if start >= first:  # else not enough history: every cohort measure is null
                cohort = {c: v for c, v in by_month[start].items() if v > 0}
                ends = {c: by_month[month].get(c, 0.0) for c in cohort}
                row["customers_start"] = len(cohort)
                row["mrr_start"] = sum(cohort.values())
                row["nrr"] = _ratio(sum(ends.values()), row["mrr_start"])
                row["grr"] = _ratio(sum(min(ends[c], v) for c, v in cohort.items()), row["mrr_start"])
            if k == 1:
                moved = [(label, m, p) for (_, when), (label, m, p) in movements.items() if when == month]
                churned = [p for label, _, p in moved if label == "churn"]
                contracted = [p - m for label, m, p in moved if label == "contraction"]
                paying = [v for v in by_month[month].values() if v > 0]
                row["logo_churn_rate"] = _ratio(len(churned), row.get("customers_start"))
                row["revenue_churn_rate"] = _ratio(sum(churned) + sum(contracted), row.get("mrr_start"))
                row["arpa"] = _ratio(sum(by_month[month].values()), len(paying))
            expected[(month, k)] = row
    return expected


def test_retention_matches_ground_truth_after_discounts(built, world) -> None:
    settings = built[0]
    expected = _expected_retention(_series(world, "discounted_mrr"))
    names = ("customers_start", "mrr_start", "nrr", "grr", "logo_churn_rate", "revenue_churn_rate", "arpa")
    rows = query(settings, f"select month, period_months, {', '.join(names)} from finance.fct_retention")
    assert {(m, k) for m, k, *_ in rows} == expected.keys()
    for month, k, *values in rows:
        want = expected[(month, k)]
        for name, value in zip(names, values, strict=True):
            assert _close(value, want.get(name)), (month, k, name, value, want.get(name))
    assert any(row.get("nrr") is not None for row in expected.values()), "the world has no cohort to check"
