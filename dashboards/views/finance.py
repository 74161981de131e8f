"""Finance: MRR and its movements, retention, billed against recognized against collected revenue with
deferred revenue, COGS and gross margin by product, and unit economics."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts
from dashboards import components as ui
from dashboards import formatting as fmt
from dashboards.filters import Selection
from dashboards.queries import Planned, ask, span, values
from dashboards.tiles import previous_period
from lakehouse.metrics_catalog import Catalog

TITLE = "Finance"
DEFAULT = Selection()

MOVEMENTS = ["new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "net_new_mrr"]
GAINS = ["new_mrr", "reactivation_mrr", "expansion_mrr"]
# The waterfall's steps between two month-end MRRs, in the order of the METRICS.md identity.
STEPS = {
    "new_mrr": "New",
    "reactivation_mrr": "Reactivation",
    "expansion_mrr": "Expansion",
    "contraction_mrr": "Contraction",
    "churned_mrr": "Churn",
}
RETENTION = ["nrr_1m", "grr_1m", "nrr_12m", "grr_12m", "logo_churn_rate", "arpa", "paying_customers"]
REVENUE = ["billed_revenue", "recognized_revenue", "collected_revenue", "deferred_revenue", "receivables"]
COGS_PARTS = ["llm_inference_cost", "cloud_direct_cost", "cloud_shared_cost", "payment_fees"]
ECONOMICS = [
    "gross_margin",
    "gross_profit",
    "revenue_churn_rate",
    "ltv",
    "new_customers",
    "cac",
    "cac_payback_months",
]
ECONOMICS_BY_PRODUCT = ["gross_margin", "gross_profit", "revenue_churn_rate", "ltv", "new_customers"]


def setup(catalog: Catalog) -> list[Planned]:
    return [
        span(catalog, "span_mrr", "mrr"),
        span(catalog, "span_revenue", "billed_revenue"),
        values(catalog, "products", "billed_revenue", "product"),
    ]


def plan(catalog: Catalog, selection: Selection) -> list[Planned]:
    return [
        ask(catalog, "mrr", ["mrr", "arr", "list_mrr"], selection),
        ask(catalog, "movements", MOVEMENTS, selection),
        ask(catalog, "retention", RETENTION, selection),
        ask(catalog, "revenue", REVENUE, selection),
        ask(catalog, "cogs", ["cogs", *COGS_PARTS], selection),
        ask(catalog, "cogs_by_product", ["cogs", *COGS_PARTS], selection, group_by=["product"]),
        ask(catalog, "economics", ECONOMICS, selection),
        ask(catalog, "economics_by_product", ECONOMICS_BY_PRODUCT, selection, group_by=["product"]),
    ]


def filters(
    catalog: Catalog, found: dict[str, pd.DataFrame], setup_plan: list[Planned], notices: ui.Notices
) -> Selection:
    start, end = ui.dates(notices, found, setup_plan)
    product = ui.pick(
        notices, "Product", ui.known(found["products"], "product"), key="product", every="All products"
    )
    return Selection(start=start, end=end, product=product)


def draw(page: ui.Page) -> None:
    product = page.selection.product
    st.caption(
        "Tiles show the latest whole month in the date range against the month before it. MRR, its "
        "movements and retention are for the whole business: the MRR marts have no product."
        + (f" Revenue, COGS and unit economics: {product}." if product else "")
    )
    page.tiles(
        [
            ui.Tile("mrr", "mrr"),
            ui.Tile("arr", "mrr"),
            ui.Tile("net_new_mrr", "movements"),
            ui.Tile("nrr_1m", "retention", "NRR (1 month)"),
            ui.Tile("grr_1m", "retention", "GRR (1 month)"),
            ui.Tile("logo_churn_rate", "retention"),
            ui.Tile("arpa", "retention"),
            ui.Tile("paying_customers", "retention"),
            ui.Tile("recognized_revenue", "revenue"),
            ui.Tile("billed_revenue", "revenue"),
            ui.Tile("collected_revenue", "revenue"),
            ui.Tile("deferred_revenue", "revenue"),
            ui.Tile("gross_margin", "economics"),
            ui.Tile("cogs", "cogs"),
            ui.Tile("ltv", "economics"),
            ui.Tile("cac_payback_months", "economics"),
        ]
    )
    draw_mrr(page)
    draw_revenue(page)
    draw_margin(page)
    draw_economics(page)


def draw_mrr(page: ui.Page) -> None:
    st.subheader("MRR movements")
    mrr = ui.day_column(page.data["mrr"])
    left, right = st.columns(2)
    with left:
        steps, month = waterfall_steps(page, mrr)
        ui.chart(
            f"MRR waterfall — {fmt.month(month)}",
            steps,
            charts.waterfall(steps, title="MRR (USD)"),
            key="finance_mrr_waterfall",
            note="The previous month's MRR, this month's movements and this month's MRR add up.",
        )
    with right:
        monthly = ui.month_label(page.data["movements"])[["period", *MOVEMENTS]]
        ui.chart(
            "MRR movements by month",
            monthly,
            charts.over_time(
                monthly,
                "period",
                "month",
                [page.metric(m) for m in MOVEMENTS[:-1]],
                kind="bar",
                y_title="USD",
            ),
            key="finance_mrr_movements",
            note="Contraction and churn are MRR lost, shown as positive amounts.",
        )


def waterfall_steps(page: ui.Page, mrr: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    """The latest month's movements lined up from the previous month's MRR to this month's.

    Each bar starts where the one before it ends; the amounts are the catalogue's, untouched.
    """
    empty = pd.DataFrame(columns=["step", "amount_usd", "start", "end", "kind"])
    moved, month = page.latest("movements")
    if month is None:
        return empty, None
    before = previous_period(month, "month")
    current = mrr[mrr["period"] == month]
    opening = mrr[mrr["period"] == before]
    if current.empty or opening.empty:
        return empty, month
    level = float(opening.iloc[0]["mrr"])
    rows = [(fmt.short_month(before), level, 0.0, level, "total")]
    moves = moved.iloc[0]
    for name, step in STEPS.items():
        amount = 0.0 if pd.isna(moves[name]) else float(moves[name])
        signed = amount if name in GAINS else -amount
        rows.append((step, signed, level, level + signed, "gain" if signed >= 0 else "loss"))
        level += signed
    closing = float(current.iloc[0]["mrr"])
    rows.append((fmt.short_month(month), closing, 0.0, closing, "total"))
    return pd.DataFrame(rows, columns=empty.columns), month


def draw_revenue(page: ui.Page) -> None:
    st.subheader("Billed, recognized and collected revenue")
    revenue = ui.month_label(page.data["revenue"])[["period", *REVENUE]]
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Billed, recognized and collected by month",
            revenue,
            charts.over_time(
                revenue, "period", "month", [page.metric(m) for m in REVENUE[:3]], kind="bar", y_title="USD"
            ),
            key="finance_revenue",
        )
    with right:
        ui.chart(
            "Deferred revenue and receivables at month end",
            revenue,
            charts.over_time(
                revenue, "period", "month", [page.metric(m) for m in REVENUE[3:]], y_title="USD"
            ),
            key="finance_deferred",
            note="Billed and recognized differ by the change in deferred revenue; billed and collected by "
            "tax and the change in receivables.",
        )


def draw_margin(page: ui.Page) -> None:
    cogs, month = page.latest("cogs_by_product")
    economics, _ = page.latest("economics_by_product")
    st.subheader(f"COGS and gross margin by product — {fmt.month(month)}")
    left, right = st.columns(2)
    with left:
        parts = cogs[["product", "cogs", *COGS_PARTS]]
        ui.chart(
            "COGS by product: AI inference, cloud and payment fees",
            parts,
            charts.stacked_parts(parts, "product", [page.metric(m) for m in COGS_PARTS], title="USD"),
            key="finance_cogs",
        )
    with right:
        margin = economics[["product", "gross_margin", "gross_profit"]]
        ui.chart(
            "Gross margin by product",
            margin,
            charts.compared_by(margin, "product", [page.metric("gross_margin")]),
            key="finance_gross_margin",
        )


def draw_economics(page: ui.Page) -> None:
    by_product, month = page.latest("economics_by_product")
    st.subheader(f"Unit economics — {fmt.month(month)}")
    shown = by_product[["product"]].copy()
    for name in ECONOMICS_BY_PRODUCT:
        metric = page.metric(name)
        shown[metric.label] = [fmt.metric_value(value, metric.format) for value in by_product[name]]
    st.dataframe(shown, hide_index=True)
    st.caption("CAC and CAC payback are blended over products (ad spend names no product): see the tiles.")
    trend = ui.month_label(page.data["economics"])[["period", "ltv", "cac"]]
    ui.chart(
        "LTV and blended CAC by month",
        trend,
        charts.over_time(trend, "period", "month", [page.metric("ltv"), page.metric("cac")], y_title="USD"),
        key="finance_ltv_cac",
    )


if __name__ == "__main__":
    ui.run_page(TITLE, setup, filters, plan, draw)
