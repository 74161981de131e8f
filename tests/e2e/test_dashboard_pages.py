"""Every dashboard page and filter on the published warehouse of the tiny seeded world.

Each tile is compared with a figure computed here straight from the marts' rows in SQL, following the
METRICS.md formula (a sum, Σ numerator / Σ denominator, the total row of a distinct count): the tile's
month is the latest one over as of the build's data day, its change is against the calendar month before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards import formatting as fmt
from dashboards.registry import PAGES

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


@pytest.fixture(autouse=True)
def published(built, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The pages read the warehouse the graph published; each test starts with an empty cache."""
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PATH", str(built[0].warehouse_file))
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture(scope="module")
def con(built):
    settings = built[0]
    with duckdb.connect(str(settings.warehouse_file), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def as_of(con) -> date:
    return con.execute("select as_of_date from meta.build_info").fetchone()[0]


def one(con, sql: str, *params: object) -> object:
    row = con.execute(sql, list(params)).fetchone()
    return None if row is None else row[0]


def whole_month(con, relation: str, column: str, as_of: date) -> date:
    """The tiles' month: the mart's latest month that is over as of the build's data day, or if it has
    none, its running month."""
    month = f"date_trunc('month', {column})"
    over = one(con, f"select max({month})::date from {relation} where last_day({month}) <= ?", as_of)
    return over or one(con, f"select max({month})::date from {relation}")


def before(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def run(page: str, **query_params: object) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=180)
    app.query_params.update(query_params)
    app.run()
    if page != "overview":
        app.switch_page(f"views/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    # "not built yet" would mean the page did not find the published warehouse
    assert not app.info, [e.value for e in app.info] + [c.value for c in app.caption]
    return app


def tiles(app: AppTest) -> dict[str, tuple[str, str]]:
    return {metric.label: (metric.value, metric.delta) for metric in app.metric}


def shown(value: object, kind: str, previous: object = None) -> tuple[str, str]:
    return fmt.metric_value(value, kind), fmt.metric_change(value, previous, kind) or ""


def ratio(numerator: object, denominator: object) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_checked_tiles_and_downloadable_charts(built, page: str) -> None:
    app = run(page)

    assert [t.value for t in app.title] == [
        {"marketing_roi": "Marketing ROI", "ai_products": "AI products"}.get(page, page.capitalize())
    ]
    assert app.metric
    badges = [m.value for m in app.markdown if "-badge[" in m.value]
    assert len(badges) == len(app.metric)
    charts = app.get("arrow_vega_lite_chart") or app.get("vega_lite_chart")
    assert charts and len(app.get("download_button")) >= len(charts)
    user_ids = [row[0] for row in duckdb.connect(str(built[0].warehouse_file), read_only=True)
                .execute("select distinct user_id from learning.fct_enrollments").fetchall()]  # fmt: skip
    text = " ".join(
        [e.value for kind in ("markdown", "caption", "subheader") for e in getattr(app, kind)]
        + [frame.value.to_csv() for frame in app.dataframe]
    )
    assert user_ids and not [user for user in user_ids if user in text]


def test_overview_tiles_equal_the_marts(con, as_of: date) -> None:
    app = run("overview")
    mrr_month = whole_month(con, "finance.fct_mrr", "month", as_of)
    mrr = {
        m: one(con, "select sum(mrr) from finance.fct_mrr where month = ?", m)
        for m in (mrr_month, before(mrr_month))
    }
    retention_month = whole_month(con, "finance.fct_retention", "month", as_of)
    nrr = {
        m: one(con, "select sum(mrr_end) / sum(mrr_start) from finance.fct_retention "
                    "where month = ? and period_months = 1", m)
        for m in (retention_month, before(retention_month))
    }  # fmt: skip
    economics_month = whole_month(con, "finance.fct_unit_economics", "month", as_of)
    margin = {
        m: one(con, "select (recognized_revenue_usd - cogs_usd) / recognized_revenue_usd "
                    "from finance.fct_unit_economics where month = ? and product = 'all'", m)
        for m in (economics_month, before(economics_month))
    }  # fmt: skip
    last_day = one(con, "select max(activity_date) from learning.fct_active_users")
    mau = {
        d: one(
            con,
            "select mau from learning.fct_active_users where product = 'courses' and activity_date = ?",
            d,
        )
        for d in (last_day, last_day - timedelta(days=28))
    }
    spend_month = whole_month(con, "marketing.fct_channel_performance", "activity_date", as_of)
    roas = {
        m: one(con, "select sum(attributed_value_usd) / nullif(sum(spend_usd), 0) "
                    "from marketing.fct_channel_performance "
                    "where attribution_model = 'last_touch' and date_trunc('month', activity_date) = ?", m)
        for m in (spend_month, before(spend_month))
    }  # fmt: skip

    shown_tiles = tiles(app)

    assert shown_tiles["MRR"] == shown(mrr[mrr_month], "currency_usd", mrr[before(mrr_month)])
    arr_before = None if mrr[before(mrr_month)] is None else 12 * mrr[before(mrr_month)]
    assert shown_tiles["ARR"] == shown(12 * mrr[mrr_month], "currency_usd", arr_before)
    assert shown_tiles["NRR (1 month)"] == shown(
        nrr[retention_month], "percent", nrr[before(retention_month)]
    )
    assert shown_tiles["Gross margin"] == shown(
        margin[economics_month], "percent", margin[before(economics_month)]
    )
    assert shown_tiles["Active learners (MAU)"] == shown(
        mau[last_day], "count", mau[last_day - timedelta(days=28)]
    )
    assert shown_tiles["Blended ROAS"] == shown(roas[spend_month], "ratio", roas[before(spend_month)])
    assert mrr[mrr_month] is not None and mau[last_day] is not None


def test_learning_tiles_and_filters(con, as_of: date) -> None:
    app = run("learning")
    month = whole_month(con, "learning.fct_enrollments", "enrolled_at", as_of)
    enrolled = one(
        con, "select count(*) from learning.fct_enrollments where date_trunc('month', enrolled_at) = ?", month
    )
    passes = con.execute(
        "select sum(passed_attempts), sum(attempts) from learning.fct_quiz_attempts "
        "where date_trunc('month', attempt_date) = ?",
        [whole_month(con, "learning.fct_quiz_attempts", "attempt_date", as_of)],
    ).fetchone()  # fmt: skip
    last_day = one(con, "select max(activity_date) from learning.fct_active_users")
    dau, mau = con.execute(
        "select dau, mau from learning.fct_active_users where product = 'courses' and activity_date = ?",
        [last_day],
    ).fetchone()

    assert tiles(app)["Enrollments"][0] == fmt.metric_value(enrolled, "count")
    assert tiles(app)["Quiz pass rate"][0] == fmt.metric_value(ratio(*passes), "percent")
    assert tiles(app)["DAU"][0] == fmt.metric_value(dau, "count")
    assert tiles(app)["Stickiness"][0] == fmt.metric_value(dau / mau, "percent")

    app.selectbox(key="product").set_value("All products").run()
    everyone = one(
        con, "select mau from learning.fct_active_users where product = 'all' and activity_date = ?", last_day
    )
    assert tiles(app)["MAU"][0] == fmt.metric_value(everyone, "count")

    course = one(
        con,
        "select min(course_id) from learning.fct_enrollments where date_trunc('month', enrolled_at) = ?",
        month,
    )
    app.selectbox(key="course").set_value(course).run()
    in_course = one(
        con,
        "select count(*) from learning.fct_enrollments "
        "where course_id = ? and date_trunc('month', enrolled_at) = ?",
        course,
        month,
    )
    assert tiles(app)["Enrollments"][0] == fmt.metric_value(in_course, "count")
    assert [s.value for s in app.subheader if s.value.startswith("Lesson drop-off")] == [
        f"Lesson drop-off — {course}"
    ]


def test_marketing_tiles_and_filters(con, as_of: date) -> None:
    app = run("marketing_roi")
    month = whole_month(con, "marketing.fct_channel_daily", "activity_date", as_of)
    in_month = "date_trunc('month', activity_date) = ?"
    spend = one(con, f"select sum(spend_usd) from marketing.fct_channel_daily where {in_month}", month)
    touches = one(
        con, "select count(*) from marketing.fct_touchpoints where date_trunc('month', touch_date) = ?", month
    )
    paid = one(
        con,
        "select count(*) from marketing.fct_conversions where conversion_type = 'paid' "
        "and date_trunc('month', conversion_date) = ?",
        month,
    )

    assert tiles(app)["Ad spend"][0] == fmt.metric_value(spend, "currency_usd")
    assert tiles(app)["Touchpoints"][0] == fmt.metric_value(touches, "count")
    assert tiles(app)["Paid conversions"][0] == fmt.metric_value(paid, "count")

    channel = one(
        con,
        f"select channel from marketing.fct_channel_daily where {in_month} "
        "order by spend_usd desc nulls last",
        month,
    )
    app.selectbox(key="channel").set_value(channel).run()
    app.segmented_control(key="attribution").set_value("linear").run()
    value, spent, conversions = con.execute(
        "select sum(attributed_value_usd), sum(spend_usd), sum(attributed_conversions) "
        f"from marketing.fct_channel_performance where {in_month} and channel = ? "
        "and attribution_model = 'linear'",
        [month, channel],
    ).fetchone()
    assert tiles(app)["ROAS"][0] == fmt.metric_value(ratio(value, spent), "ratio")
    assert tiles(app)["CPA"][0] == fmt.metric_value(ratio(spent, conversions), "currency_usd")

    campaign = one(
        con,
        f"select min(campaign) from marketing.fct_channel_performance where {in_month} and channel = ?",
        month,
        channel,
    )
    app.selectbox(key="campaign").set_value(campaign).run()
    campaign_spend = one(
        con,
        f"select sum(spend_usd) from marketing.fct_channel_performance where {in_month} and channel = ? "
        "and campaign = ? and attribution_model = 'linear'",
        month,
        channel,
        campaign,
    )
    assert tiles(app)["Ad spend"][0] == fmt.metric_value(campaign_spend, "currency_usd")

    first = one(
        con, "select min(activity_date) from marketing.fct_channel_daily where activity_date >= ?", month
    )
    app.selectbox(key="campaign").set_value("All campaigns").run()
    app.date_input(key="dates").set_value((first, first + timedelta(days=1))).run()
    two_days = one(
        con,
        "select sum(spend_usd) from marketing.fct_channel_daily "
        "where channel = ? and activity_date between ? and ?",
        channel,
        first,
        first + timedelta(days=1),
    )
    assert not app.warning
    assert tiles(app)["Ad spend"][0] == fmt.metric_value(two_days, "currency_usd")


def test_finance_tiles_and_product_filter(con, as_of: date) -> None:
    app = run("finance")
    month = whole_month(con, "finance.fct_revenue_recognition", "month", as_of)
    recognized = one(
        con, "select sum(recognized_usd) from finance.fct_revenue_recognition where month = ?", month
    )
    # Deferred revenue at month end = billed to date − recognized to date (METRICS.md)
    deferred = one(
        con,
        "select sum(billed_usd) - sum(recognized_usd) from finance.fct_revenue_recognition where month <= ?",
        month,
    )
    movements_month = whole_month(con, "finance.fct_mrr_movements", "month", as_of)
    net_new = one(con, "select sum(amount) from finance.fct_mrr_movements where month = ?", movements_month)
    cogs = one(
        con,
        "select sum(cogs_usd) from finance.fct_cogs where month = ?",
        whole_month(con, "finance.fct_cogs", "month", as_of),
    )

    shown_tiles = tiles(app)
    assert shown_tiles["Recognized revenue"][0] == fmt.metric_value(recognized, "currency_usd")
    assert shown_tiles["Deferred revenue"][0] == fmt.metric_value(deferred, "currency_usd")
    assert shown_tiles["Net new MRR"][0] == fmt.metric_value(net_new, "currency_usd")
    assert shown_tiles["COGS"][0] == fmt.metric_value(cogs, "currency_usd")

    app.selectbox(key="product").set_value("courses").run()
    courses = one(
        con,
        "select sum(recognized_usd) from finance.fct_revenue_recognition "
        "where month = ? and product = 'courses'",
        month,
    )
    assert tiles(app)["Recognized revenue"][0] == fmt.metric_value(courses, "currency_usd")
    assert tiles(app)["MRR"] == shown_tiles["MRR"]  # MRR has no product: the filter leaves it alone


def test_ai_products_tiles_and_filters(con, as_of: date) -> None:
    app = run("ai_products")
    month = whole_month(con, "finance.fct_ai_usage", "usage_date", as_of)
    in_month = "date_trunc('month', usage_date) = ?"
    # every model's own rows, not the `all` rows the page reads: the two must agree
    generations, successes = con.execute(
        f"select sum(generations), sum(successes) from finance.fct_ai_usage "
        f"where {in_month} and model <> 'all'",
        [month],
    ).fetchone()
    exports = one(
        con,
        "select sum(exports) from finance.fct_document_exports where date_trunc('month', export_date) = ?",
        whole_month(con, "finance.fct_document_exports", "export_date", as_of),
    )

    assert tiles(app)["Generations"][0] == fmt.metric_value(generations, "count")
    assert tiles(app)["Success rate"][0] == fmt.metric_value(ratio(successes, generations), "percent")
    assert tiles(app)["Documents exported"][0] == fmt.metric_value(exports, "count")

    model = one(
        con,
        f"select min(model) from finance.fct_ai_usage "
        f"where {in_month} and product = 'documents' and model <> 'all'",
        month,
    )
    app.selectbox(key="product").set_value("documents").run()
    app.selectbox(key="llm_model").set_value(model).run()
    narrowed = one(
        con,
        f"select sum(generations) from finance.fct_ai_usage "
        f"where {in_month} and product = 'documents' and model = ?",
        month,
        model,
    )
    assert tiles(app)["Generations"][0] == fmt.metric_value(narrowed, "count")
