"""Revenue, cash and costs on the tiny seeded world, checked against the simulator's own books.

Billed, recognized and deferred revenue come from the ground truth (`recognized_revenue`, per month,
product and currency, in the currency and in USD); cash collected, payment fees and cloud costs are
recomputed here from the world's own rows and exports.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime

import pytest

from ingestion import ground_truth
from tests.e2e.warehouse import query

pytestmark = pytest.mark.slow

TOLERANCE = 1e-6
REVENUE = ("billed", "recognized", "deferred", "billed_usd", "recognized_usd", "deferred_usd")


def _close(actual: float, expected: float) -> bool:
    return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=TOLERANCE)


def _month(value: date | datetime) -> date:
    return date(value.year, value.month, 1)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _fx(world) -> dict[tuple[date, str], float]:
    return {(r["date"], r["currency"]): r["rate_to_usd"] for r in world.fx_rates}


def _revenue_rows(settings) -> dict[tuple, tuple]:
    rows = query(
        settings,
        "select month, product, currency, billed, recognized, deferred_revenue,"
        " billed_usd, recognized_usd, deferred_revenue_usd from finance.fct_revenue_recognition",
    )
    return {(m, p, c): tuple(values) for m, p, c, *values in rows}


def test_billed_recognized_and_deferred_match_ground_truth(built, world) -> None:
    actual = _revenue_rows(built[0])
    truth = {(r["month"], r["product"], r["currency"]): r for r in ground_truth.recognized_revenue(world)}
    assert truth, "the world bills something"
    assert truth.keys() <= actual.keys()
    for key, row in truth.items():
        for name, value in zip(REVENUE, actual[key], strict=True):
            assert _close(value, row[name]), (key, name, value, row[name])
    # the truth has no row for a month without billing or recognition; the mart carries the balance
    for key in actual.keys() - truth.keys():
        billed, recognized, deferred, billed_usd, recognized_usd, deferred_usd = actual[key]
        month, product, currency = key
        assert billed == recognized == billed_usd == recognized_usd == 0
        last = truth[max(k for k in truth if k[1:] == (product, currency) and k[0] < month)]
        assert _close(deferred, last["deferred"]) and _close(deferred_usd, last["deferred_usd"])


def test_the_world_exercises_prorations_and_currencies(world) -> None:
    # the tiny world has no refund: the refund reversal is covered by the dbt unit tests
    lines = world.table("invoice_lines")
    assert {"subscription", "proration"} <= {line["kind"] for line in lines}
    assert len({line["currency"] for line in lines}) > 1


def test_revenue_reconciles_with_deferral_and_receivables(built) -> None:
    rows = query(
        built[0],
        "select product, currency, month, billed, recognized, change_in_deferred, deferred_revenue,"
        " tax_billed, collected, change_in_receivables, receivables"
        " from finance.fct_revenue_recognition order by product, currency, month",
    )
    previous: dict[tuple[str, str], tuple[float, float]] = {}
    for product, currency, _, billed, recognized, d_deferred, deferred, tax, collected, d_ar, ar in rows:
        assert _close(d_deferred, billed - recognized)
        assert _close(d_ar, billed + tax - collected)
        deferred_before, ar_before = previous.get((product, currency), (0.0, 0.0))
        assert _close(deferred, deferred_before + d_deferred)
        assert _close(ar, ar_before + d_ar)
        previous[product, currency] = (deferred, ar)


def test_cash_collected_and_payment_fees_match_the_worlds_payments(built, world) -> None:
    settings = built[0]
    fx = _fx(world)
    last_month = max(m for (m,) in query(settings, "select month from finance.fct_revenue_recognition"))
    collected: dict[date, float] = defaultdict(float)
    fees: dict[date, float] = defaultdict(float)
    for payment in world.table("payments"):
        if payment["status"] == "succeeded":
            day = _day(payment["created_at"])
            rate = fx[day, payment["currency"]]
            collected[_month(day)] += payment["amount"] / 100 * rate
            fees[_month(day)] += payment["fee"] / 100 * rate
    for refund in world.table("refunds"):
        day = _day(refund["created_at"])
        collected[_month(day)] -= refund["amount"] / 100 * fx[day, refund["currency"]]
    collected_sql = "select month, sum(collected_usd) from finance.fct_revenue_recognition group by month"
    actual = dict(query(settings, collected_sql))
    expected = {m: v for m, v in collected.items() if m <= last_month}
    assert expected
    for month, value in expected.items():
        assert _close(actual.get(month, 0.0), value), month
    fees_sql = "select month, sum(payment_fees_usd) from finance.fct_cogs group by month"
    actual_fees = dict(query(settings, fees_sql))
    for month, value in actual_fees.items():
        assert _close(value, fees.get(month, 0.0)), month


def test_cloud_costs_are_allocated_in_full(built, world) -> None:
    settings = built[0]
    fx = _fx(world)
    total: dict[date, float] = defaultdict(float)
    for line in world._export("cloud_costs"):
        day = date.fromisoformat(line["date"])
        total[_month(day)] += float(line["amount"]) * fx[day, line["currency"]]
    rows = query(
        settings,
        "select month, sum(cloud_direct_cost_usd + cloud_shared_cost_usd) as cloud"
        " from finance.fct_cogs group by month",
    )
    assert rows
    for month, value in rows:
        assert _close(value, total[month]), month


def test_unit_economics_add_up_to_the_finance_marts(built) -> None:
    settings = built[0]
    rows = query(
        settings,
        "select u.month, u.recognized_revenue_usd, u.mrr_usd, u.customers, r.recognized, m.mrr, m.customers"
        " from finance.fct_unit_economics u"
        " left join (select month, sum(recognized_usd) as recognized from finance.fct_revenue_recognition"
        "            group by month) r on r.month = u.month"
        " left join (select month, sum(mrr) as mrr, count(case when mrr > 0 then 1 end) as customers"
        "            from finance.fct_mrr group by month) m on m.month = u.month"
        " where u.product = 'all'",
    )
    assert rows
    for month, recognized, mrr, customers, expected_recognized, expected_mrr, expected_customers in rows:
        assert _close(recognized, expected_recognized or 0.0), month
        assert _close(mrr, expected_mrr or 0.0), month
        assert customers == (expected_customers or 0), month
    per_product = query(
        settings,
        "select month, sum(mrr_usd), sum(recognized_revenue_usd) from finance.fct_unit_economics"
        " where product <> 'all' group by month",
    )
    totals = {month: (mrr, recognized) for month, recognized, mrr, *_ in rows}
    for month, mrr, recognized in per_product:
        assert _close(mrr, totals[month][0]) and _close(recognized, totals[month][1]), month
