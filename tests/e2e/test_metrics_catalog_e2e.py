"""The metric catalogue on the published warehouse of the tiny seeded world.

Every figure the catalogue's SQL returns is compared with one computed here straight from the marts'
rows, in SQL written out below or in Python: a sum of a mart column, Σ numerator / Σ denominator of a
ratio, the mart's own pre-computed column at its grain, or the total row the mart keeps for distinct
counts and percentiles.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

import duckdb
import pytest

from lakehouse.metrics_catalog import Catalog, load_catalog

pytestmark = pytest.mark.slow

PERFORMANCE = (
    "select activity_date, channel, campaign, attribution_model, {} from marketing.fct_channel_performance"
)

# metric -> (group-by dimensions, SQL of the expected rows: the period, those dimensions, the value)
AT_THE_MARTS_GRAIN = {
    "mrr": ((), "select month, sum(mrr) from finance.fct_mrr group by 1"),
    "arr": ((), "select month, sum(arr) from finance.fct_mrr group by 1"),
    "list_mrr": ((), "select month, sum(list_mrr) from finance.fct_mrr group by 1"),
    "new_mrr": (
        (),
        "select month, sum(amount) from finance.fct_mrr_movements where movement = 'new' group by 1",
    ),
    "reactivation_mrr": (
        (),
        "select month, sum(amount) from finance.fct_mrr_movements where movement = 'reactivation' group by 1",
    ),
    "expansion_mrr": (
        (),
        "select month, sum(amount) from finance.fct_mrr_movements where movement = 'expansion' group by 1",
    ),
    "contraction_mrr": (
        (),
        "select month, -sum(amount) from finance.fct_mrr_movements where movement = 'contraction' group by 1",
    ),
    "churned_mrr": (
        (),
        "select month, -sum(amount) from finance.fct_mrr_movements where movement = 'churn' group by 1",
    ),
    "net_new_mrr": ((), "select month, sum(amount) from finance.fct_mrr_movements group by 1"),
    "nrr_1m": ((), "select month, nrr from finance.fct_retention where period_months = 1"),
    "nrr_12m": ((), "select month, nrr from finance.fct_retention where period_months = 12"),
    "grr_1m": ((), "select month, grr from finance.fct_retention where period_months = 1"),
    "grr_12m": ((), "select month, grr from finance.fct_retention where period_months = 12"),
    "logo_churn_rate": (
        (),
        "select month, logo_churn_rate from finance.fct_retention where period_months = 1",
    ),
    "arpa": ((), "select month, arpa from finance.fct_retention where period_months = 1"),
    "paying_customers": (
        (),
        "select month, paying_customers from finance.fct_retention where period_months = 1",
    ),
    "billed_revenue": (
        ("product",),
        "select month, product, sum(billed_usd) from finance.fct_revenue_recognition group by 1, 2",
    ),
    "recognized_revenue": (
        ("product", "currency"),
        "select month, product, currency, recognized_usd from finance.fct_revenue_recognition",
    ),
    "collected_revenue": (
        (),
        "select month, sum(collected_usd) from finance.fct_revenue_recognition group by 1",
    ),
    "deferred_revenue": (
        ("product", "currency"),
        "select month, product, currency, deferred_revenue_usd from finance.fct_revenue_recognition",
    ),
    "receivables": ((), "select month, sum(receivables_usd) from finance.fct_revenue_recognition group by 1"),
    "cogs": (("product",), "select month, product, cogs_usd from finance.fct_cogs"),
    "gross_margin": (
        ("product",),
        "select month, product, gross_margin from finance.fct_unit_economics where product <> 'all'",
    ),
    "revenue_churn_rate": (
        (),
        "select month, revenue_churn_rate from finance.fct_unit_economics where product = 'all'",
    ),
    "ltv": (
        ("product",),
        "select month, product, ltv_usd from finance.fct_unit_economics where product <> 'all'",
    ),
    "cac": ((), "select month, cac_usd from finance.fct_unit_economics where product = 'all'"),
    "cac_payback_months": (
        (),
        "select month, cac_payback_months from finance.fct_unit_economics where product = 'all'",
    ),
    "new_customers": (
        (),
        "select month, new_customers from finance.fct_unit_economics where product = 'all'",
    ),
    "generations": (
        ("product", "model"),
        "select usage_date, product, model, generations from finance.fct_ai_usage where model <> 'all'",
    ),
    "generation_success_rate": (
        ("product",),
        "select usage_date, product, success_rate from finance.fct_ai_usage where model = 'all'",
    ),
    "generation_latency_p95": (
        ("product",),
        "select usage_date, product, latency_p95_ms from finance.fct_ai_usage where model = 'all'",
    ),
    "generation_latency_p50": (
        ("product", "model"),
        "select usage_date, product, model, latency_p50_ms from finance.fct_ai_usage where model <> 'all'",
    ),
    "tokens_per_generation": (
        ("product",),
        "select usage_date, product, tokens_per_generation from finance.fct_ai_usage where model = 'all'",
    ),
    "cost_per_generation": (
        ("product",),
        "select usage_date, product, cost_per_generation from finance.fct_ai_usage where model = 'all'",
    ),
    "cost_per_active_customer": (
        ("product",),
        "select usage_date, product, cost_per_active_customer from finance.fct_ai_usage where model = 'all'",
    ),
    "document_exports": (
        ("export_format",),
        "select export_date, export_format, exports from finance.fct_document_exports",
    ),
    "touchpoints": (
        ("channel",),
        "select touch_date, channel, count(*) from marketing.fct_touchpoints group by 1, 2",
    ),
    "conversions": (
        (),
        "select conversion_date, count(*) from marketing.fct_conversions where conversion_type = 'paid' "
        "group by 1",
    ),
    "signups": (
        (),
        "select conversion_date, count(*) from marketing.fct_conversions where conversion_type = 'signup' "
        "group by 1",
    ),
    "conversion_value": (
        (),
        "select conversion_date, sum(value_usd) from marketing.fct_conversions "
        "where conversion_type = 'paid' group by 1",
    ),
    "roas": (
        ("channel", "campaign", "attribution_model"),
        PERFORMANCE.format("roas"),
    ),
    "cpa": (
        ("channel", "campaign", "attribution_model"),
        PERFORMANCE.format("cpa"),
    ),
    "channel_cac": (
        ("channel", "campaign", "attribution_model"),
        PERFORMANCE.format("cac"),
    ),
    "funnel_signup_rate": (
        ("channel",),
        "select cohort_week, channel, signup_rate from marketing.fct_funnel",
    ),
    "funnel_activation_rate": (
        ("channel",),
        "select cohort_week, channel, activation_rate from marketing.fct_funnel",
    ),
    "funnel_paid_rate": (("channel",), "select cohort_week, channel, paid_rate from marketing.fct_funnel"),
    "funnel_visitor_to_paid_rate": (
        ("channel",),
        "select cohort_week, channel, visitor_to_paid_rate from marketing.fct_funnel",
    ),
    "enrollments": (
        ("course_id",),
        "select cast(enrolled_at as date), course_id, count(*) from learning.fct_enrollments group by 1, 2",
    ),
    "engaged_time": (
        (),
        "select cast(enrolled_at as date), sum(engaged_seconds) from learning.fct_enrollments group by 1",
    ),
    "completion_rate_90d": (
        ("course_id",),
        "select cohort_month, course_id, completion_rate_90d from learning.fct_course_completion "
        "where course_id <> 'all'",
    ),
    "time_to_complete_p50": (
        (),
        "select cohort_month, median_days_to_complete from learning.fct_course_completion "
        "where course_id = 'all'",
    ),
    "time_to_complete_p75": (
        ("course_id",),
        "select cohort_month, course_id, p75_days_to_complete from learning.fct_course_completion "
        "where course_id <> 'all'",
    ),
    "quiz_pass_rate": (
        ("quiz_id",),
        "select attempt_date, quiz_id, pass_rate from learning.fct_quiz_attempts",
    ),
    "dau": ((), "select activity_date, dau from learning.fct_active_users where product = 'all'"),
    "wau": (
        ("product",),
        "select activity_date, product, wau from learning.fct_active_users where product <> 'all'",
    ),
    "mau": ((), "select activity_date, mau from learning.fct_active_users where product = 'all'"),
    "stickiness": (
        (),
        "select activity_date, stickiness from learning.fct_active_users where product = 'all'",
    ),
    "cohort_retention": (
        ("week_number",),
        "select cohort_week, week_number, retention from learning.fct_cohort_retention",
    ),
}

# Movements a six-day world may not have.
RARE = {"reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"}

SNAPSHOT = {
    "lesson_reach_rate": "select course_id, lesson_position, reach_rate from learning.fct_lesson_dropoff",
    "lesson_drop_rate": "select course_id, lesson_position, drop_rate from learning.fct_lesson_dropoff",
}


@pytest.fixture(scope="module")
def warehouse(built):
    settings = built[0]
    con = duckdb.connect(str(settings.warehouse_file), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def expected(con: duckdb.DuckDBPyConnection, sql: str) -> dict[tuple, object]:
    found = {}
    for row in con.execute(sql).fetchall():
        assert tuple(row[:-1]) not in found, f"{sql} returns a key twice"
        found[tuple(row[:-1])] = row[-1]
    return found


def measured(con: duckdb.DuckDBPyConnection, catalog: Catalog, *args, **kwargs) -> dict[tuple, object]:
    query = catalog.query(*args, **kwargs)
    return {tuple(row[:-1]): row[-1] for row in con.execute(query.sql, query.params).fetchall()}


def same(left: dict, right: dict) -> list:
    """Keys whose values differ (beyond float rounding), or that only one side has."""

    def equal(a, b) -> bool:
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)

    keys = left.keys() | right.keys()
    return [(key, left.get(key), right.get(key)) for key in keys if not equal(left.get(key), right.get(key))]


@pytest.mark.parametrize("metric", sorted(AT_THE_MARTS_GRAIN))
def test_the_catalogue_gives_what_the_marts_hold_at_their_grain(warehouse, catalog, metric) -> None:
    group_by, sql = AT_THE_MARTS_GRAIN[metric]
    truth = expected(warehouse, sql)
    assert truth or metric in RARE, f"{metric}: the tiny world has no rows for it"
    # A filtered metric reads none of the other rows' values: where only those are, it is null (or 0 for
    # a count), where the SQL above has no row at all.
    got = measured(warehouse, catalog, metric, group_by=group_by)
    got = {key: value for key, value in got.items() if key in truth or value}
    assert same(got, truth) == []


@pytest.mark.parametrize("metric", sorted(SNAPSHOT))
def test_snapshot_metrics_are_read_whole(warehouse, catalog, metric) -> None:
    truth = expected(warehouse, SNAPSHOT[metric])
    assert truth
    got = measured(
        warehouse,
        catalog,
        metric,
        date(2000, 1, 1),
        date(2000, 1, 2),
        group_by=["course_id", "lesson_position"],
    )
    assert same(got, truth) == []


def test_headline_figures_are_there(warehouse, catalog) -> None:
    mrr = measured(warehouse, catalog, "mrr")
    assert any(value > 0 for value in mrr.values())
    dau = measured(warehouse, catalog, "dau")
    assert any(value > 0 for value in dau.values())
    spend = measured(warehouse, catalog, "spend")
    assert any(value > 0 for value in spend.values())


def test_ratios_over_a_longer_period_divide_the_sums(warehouse, catalog) -> None:
    sums: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for day, channel, model, *amounts in warehouse.execute(
        "select activity_date, channel, attribution_model, spend_usd, attributed_value_usd, "
        "attributed_conversions, attributed_new_customers from marketing.fct_channel_performance"
    ).fetchall():
        for index, amount in enumerate(amounts):
            sums[(day.replace(day=1), channel, model)][index] += amount or 0.0
    ratios = {
        "roas": lambda spend, value, conversions, new: value / spend if spend else None,
        "cpa": lambda spend, value, conversions, new: spend / conversions if conversions else None,
        "channel_cac": lambda spend, value, conversions, new: spend / new if new else None,
    }
    for metric, ratio in ratios.items():
        truth = {key: ratio(*parts) for key, parts in sums.items()}
        assert any(value is not None for value in truth.values()), metric
        got = measured(warehouse, catalog, metric, grain="month", group_by=["channel", "attribution_model"])
        assert same(got, truth) == [], metric
    blended = measured(warehouse, catalog, "roas", grain="month", filters={"attribution_model": "linear"})
    months: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (month, _, model), (spend, value, _, _) in sums.items():
        if model == "linear":
            months[month][0] += spend
            months[month][1] += value
    assert same(blended, {(month,): v / s if s else None for month, (s, v) in months.items()}) == []


def test_spend_is_counted_once_whatever_the_attribution_models(warehouse, catalog) -> None:
    daily = expected(
        warehouse,
        "select activity_date, channel, spend_usd from marketing.fct_channel_daily where spend_usd <> 0",
    )
    assert daily
    got = measured(warehouse, catalog, "spend", group_by=["channel"])
    assert same({key: value for key, value in got.items() if value}, daily) == []
    per_model = measured(warehouse, catalog, "spend", grain="month", group_by=["attribution_model"])
    totals = {model: value for (_, model), value in per_model.items()}
    assert len(totals) == 5 and len({round(value, 6) for value in totals.values()}) == 1


def test_weekly_and_monthly_figures_add_up_the_days(warehouse, catalog) -> None:
    days = warehouse.execute(
        "select usage_date, sum(generations), sum(successes) from finance.fct_ai_usage where model = 'all' "
        "group by 1"
    ).fetchall()
    weeks: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, generations, successes in days:
        monday = day - timedelta(days=day.weekday())
        weeks[monday][0] += generations
        weeks[monday][1] += successes
    got = measured(warehouse, catalog, ["generation_success_rate"], grain="week")
    truth = {(monday,): successes / generations for monday, (generations, successes) in weeks.items()}
    assert truth and same(got, truth) == []
    monthly = measured(warehouse, catalog, "quiz_pass_rate", grain="month")
    attempts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, tried, passed in warehouse.execute(
        "select attempt_date, attempts, passed_attempts from learning.fct_quiz_attempts"
    ).fetchall():
        attempts[day.replace(day=1)][0] += tried
        attempts[day.replace(day=1)][1] += passed
    assert same(monthly, {(month,): p / t if t else None for month, (t, p) in attempts.items()}) == []


def test_mrr_moves_by_its_movements(warehouse, catalog) -> None:
    mrr = {key[0]: value for key, value in measured(warehouse, catalog, "mrr").items()}
    net = {key[0]: value for key, value in measured(warehouse, catalog, "net_new_mrr").items()}
    months = sorted(mrr)
    for previous, month in zip(months, months[1:], strict=False):
        assert math.isclose(mrr[month], mrr[previous] + net.get(month, 0.0), rel_tol=1e-9, abs_tol=1e-6)
