"""Overview: the business's headline numbers, each against the period before and with its trend."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts
from dashboards import components as ui
from dashboards.filters import Selection
from dashboards.queries import Planned, ask, span
from lakehouse.metrics_catalog import Catalog

TITLE = "Overview"
DEFAULT = Selection()
# Active learners are the course platform's users (the catalogue's MAU, product courses).
LEARNERS_PRODUCT = "courses"
# Blended over channels, every attribution model gives the same ROAS (each conversion's weights sum to 1).
BLENDED_MODEL = "last_touch"

TILES = [
    ui.Tile("mrr", "mrr"),
    ui.Tile("arr", "mrr"),
    ui.Tile("nrr_1m", "retention", "NRR (1 month)"),
    ui.Tile("grr_1m", "retention", "GRR (1 month)"),
    ui.Tile("gross_margin", "gross_margin"),
    ui.Tile("mau", "active_learners", "Active learners (MAU)"),
    ui.Tile("roas", "roas", "Blended ROAS"),
    ui.Tile("cac_payback_months", "cac_payback"),
]


def setup(catalog: Catalog) -> list[Planned]:
    return [span(catalog, "span_mrr", "mrr"), span(catalog, "span_active", "dau")]


def plan(catalog: Catalog, selection: Selection) -> list[Planned]:
    return [
        ask(catalog, "mrr", ["mrr", "arr"], selection),
        ask(catalog, "retention", ["nrr_1m", "grr_1m"], selection),
        ask(catalog, "gross_margin", "gross_margin", selection),
        ask(catalog, "active_learners", "mau", selection, filters={"product": LEARNERS_PRODUCT}),
        ask(catalog, "roas", "roas", selection, grain="month", filters={"attribution_model": BLENDED_MODEL}),
        ask(catalog, "cac_payback", "cac_payback_months", selection),
    ]


def filters(
    catalog: Catalog, found: dict[str, pd.DataFrame], setup_plan: list[Planned], notices: ui.Notices
) -> Selection:
    start, end = ui.dates(notices, found, setup_plan)
    return Selection(start=start, end=end)


def draw(page: ui.Page) -> None:
    st.caption(
        "Each tile shows the latest whole month (MAU: the latest day) in the date range against the one "
        "before it; the line is its trend over the range. Active learners: MAU of the course platform. "
        "Blended ROAS: every channel and campaign together."
    )
    page.tiles(TILES)
    left, right = st.columns(2)
    with left:
        mrr = ui.month_label(page.data["mrr"])[["period", "mrr"]]
        ui.chart(
            "MRR by month",
            mrr,
            charts.over_time(mrr, "period", "month", [page.metric("mrr")], y_title="MRR (USD)"),
            key="overview_mrr",
        )
    with right:
        learners = ui.day_column(page.data["active_learners"])[["period", "mau"]]
        ui.chart(
            "Active learners (MAU, course platform) by day",
            learners,
            charts.over_time(learners, "period", "day", [page.metric("mau")]),
            key="overview_active_learners",
        )


# Streamlit runs a page file as __main__; the benchmark imports it for its queries only.
if __name__ == "__main__":
    ui.run_page(TITLE, setup, filters, plan, draw)
