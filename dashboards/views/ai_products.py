"""AI products: generations, success rate, latency, tokens and cost per generation and per customer, and
documents exported by format."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts
from dashboards import components as ui
from dashboards import formatting as fmt
from dashboards.filters import Selection
from dashboards.queries import Planned, ask, span, values
from lakehouse.metrics_catalog import Catalog

TITLE = "AI products"
DEFAULT = Selection()

USAGE = [
    "generations",
    "generation_success_rate",
    "generation_tokens",
    "tokens_per_generation",
    "generation_cost",
    "cost_per_generation",
]
PER_DAY = [
    "generation_latency_p50",
    "generation_latency_p95",
    "ai_active_customers",
    "cost_per_active_customer",
]


def setup(catalog: Catalog) -> list[Planned]:
    return [
        span(catalog, "span_usage", "generations"),
        span(catalog, "span_exports", "document_exports"),
        values(catalog, "products", "generations", "product"),
        values(catalog, "llm_models", "generations", "model"),
    ]


def plan(catalog: Catalog, selection: Selection) -> list[Planned]:
    return [
        ask(catalog, "usage", USAGE, selection, grain="month"),
        ask(
            catalog,
            "weekly",
            ["generations", "generation_success_rate"],
            selection,
            grain="week",
            group_by=["product"],
        ),
        # Percentiles and distinct customers hold only per day and product: read at that grain.
        ask(catalog, "per_day", PER_DAY, selection, group_by=["product"]),
        ask(catalog, "by_model", USAGE, selection, grain="month", group_by=["model"]),
        ask(catalog, "exports", "document_exports", selection, grain="month"),
        ask(
            catalog,
            "exports_by_format",
            "document_exports",
            selection,
            grain="week",
            group_by=["export_format"],
        ),
    ]


def filters(
    catalog: Catalog, found: dict[str, pd.DataFrame], setup_plan: list[Planned], notices: ui.Notices
) -> Selection:
    start, end = ui.dates(notices, found, setup_plan)
    product = ui.pick(
        notices, "Product", ui.known(found["products"], "product"), key="product", every="All AI products"
    )
    model = ui.pick(
        notices, "LLM model", ui.known(found["llm_models"], "model"), key="llm_model", every="All models"
    )
    return Selection(start=start, end=end, product=product, llm_model=model)


def draw(page: ui.Page) -> None:
    selection = page.selection
    scope = (
        ", ".join(part for part in (selection.product, selection.llm_model) if part)
        or "all products and models"
    )
    st.caption(
        f"Generations: {scope}. Tiles show the latest whole month in the date range against the month "
        "before it; latency and cost per customer are per day and product, as they cannot be added up."
    )
    page.tiles(
        [
            ui.Tile("generations", "usage"),
            ui.Tile("generation_success_rate", "usage"),
            ui.Tile("tokens_per_generation", "usage"),
            ui.Tile("cost_per_generation", "usage"),
            ui.Tile("generation_tokens", "usage"),
            ui.Tile("generation_cost", "usage"),
            ui.Tile("document_exports", "exports"),
        ]
    )
    st.subheader("Generations by week and product")
    weekly = ui.day_column(page.data["weekly"])[
        ["period", "product", "generations", "generation_success_rate"]
    ]
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Generations",
            weekly,
            charts.by_group_over_time(
                weekly, "period", "week", page.metric("generations"), "product", kind="bar"
            ),
            key="ai_generations",
        )
    with right:
        ui.chart(
            "Success rate",
            weekly,
            charts.by_group_over_time(
                weekly, "period", "week", page.metric("generation_success_rate"), "product"
            ),
            key="ai_success_rate",
        )
    st.subheader("Latency and cost per customer by day and product")
    per_day = ui.day_column(page.data["per_day"])[["period", "product", *PER_DAY]]
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Latency p95 (ms)",
            per_day,
            charts.by_group_over_time(
                per_day, "period", "day", page.metric("generation_latency_p95"), "product"
            ),
            key="ai_latency",
            note="The CSV holds p50 too; both are over every generation of the day and product.",
        )
    with right:
        ui.chart(
            "Cost per active customer",
            per_day,
            charts.by_group_over_time(
                per_day, "period", "day", page.metric("cost_per_active_customer"), "product"
            ),
            key="ai_cost_per_customer",
            note="LLM cost of the day / distinct users who generated that day.",
        )
    by_model, month = page.latest("by_model")
    st.subheader(f"By LLM model — {fmt.month(month)}")
    models = by_model[["model", *USAGE]].sort_values("generations", ascending=False)
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Tokens per generation by model",
            models,
            charts.compared_by(models, "model", [page.metric("tokens_per_generation")]),
            key="ai_tokens_by_model",
        )
    with right:
        ui.chart(
            "Cost per generation by model",
            models,
            charts.compared_by(models, "model", [page.metric("cost_per_generation")]),
            key="ai_cost_by_model",
        )
    exports = ui.day_column(page.data["exports_by_format"])[["period", "export_format", "document_exports"]]
    ui.chart(
        "Documents exported by format, by week",
        exports,
        charts.by_group_over_time(
            exports, "period", "week", page.metric("document_exports"), "export_format", kind="bar"
        ),
        key="ai_exports",
        note="The document generator's exports; the product and model filters do not apply.",
    )


if __name__ == "__main__":
    ui.run_page(TITLE, setup, filters, plan, draw)
