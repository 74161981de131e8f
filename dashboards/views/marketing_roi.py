"""Marketing ROI: spend against attributed value by channel and campaign under each attribution model,
ROAS, CPA and CAC by channel, and the acquisition funnel by channel and weekly cohort."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts
from dashboards import components as ui
from dashboards import formatting as fmt
from dashboards.filters import Selection
from dashboards.queries import Planned, ask, span, values
from lakehouse.metrics_catalog import Catalog

TITLE = "Marketing ROI"
DEFAULT = Selection(attribution_model="last_touch")

PERFORMANCE = [
    "spend",
    "attributed_conversion_value",
    "roas",
    "cpa",
    "channel_cac",
    "attributed_conversions",
    "attributed_new_customers",
]
FUNNEL_STEPS = ["funnel_visitors", "funnel_signups", "funnel_activations", "funnel_paid"]
FUNNEL_RATES = [
    "funnel_signup_rate",
    "funnel_activation_rate",
    "funnel_paid_rate",
    "funnel_visitor_to_paid_rate",
]


def setup(catalog: Catalog) -> list[Planned]:
    return [
        span(catalog, "span_spend", "spend"),
        span(catalog, "span_funnel", "funnel_visitors"),
        values(catalog, "channels", "spend", "channel"),
        values(catalog, "campaigns", "spend", "campaign"),
        values(catalog, "models", "roas", "attribution_model"),
    ]


def plan(catalog: Catalog, selection: Selection) -> list[Planned]:
    return [
        ask(catalog, "performance", PERFORMANCE, selection, grain="month"),
        ask(catalog, "by_channel", PERFORMANCE, selection, grain="month", group_by=["channel"]),
        ask(catalog, "by_campaign", PERFORMANCE, selection, grain="month", group_by=["channel", "campaign"]),
        ask(
            catalog,
            "by_model",
            ["attributed_conversion_value", "roas", "cpa", "channel_cac"],
            selection,
            grain="month",
            group_by=["channel", "attribution_model"],
            ignore=["attribution_model"],
        ),
        ask(catalog, "touchpoints", "touchpoints", selection, grain="month"),
        ask(catalog, "conversions", ["conversions", "signups", "conversion_value"], selection, grain="month"),
        ask(catalog, "funnel", FUNNEL_STEPS + FUNNEL_RATES, selection, grain="month", group_by=["channel"]),
        ask(
            catalog,
            "funnel_cohorts",
            ["funnel_visitors", "funnel_visitor_to_paid_rate"],
            selection,
            group_by=["channel"],
        ),
    ]


def filters(
    catalog: Catalog, found: dict[str, pd.DataFrame], setup_plan: list[Planned], notices: ui.Notices
) -> Selection:
    start, end = ui.dates(notices, found, setup_plan)
    channel = ui.pick(
        notices, "Channel", ui.known(found["channels"], "channel"), key="channel", every="All channels"
    )
    campaign = ui.pick(
        notices, "Campaign", ui.known(found["campaigns"], "campaign"), key="campaign", every="All campaigns"
    )
    model = ui.switch(
        notices,
        "Attribution model",
        ui.known(found["models"], "attribution_model"),
        key="attribution",
        default=DEFAULT.attribution_model,
    )
    return Selection(start=start, end=end, channel=channel, campaign=campaign, attribution_model=model)


def draw(page: ui.Page) -> None:
    selection = page.selection
    scope = (
        ", ".join(part for part in (selection.channel, selection.campaign) if part)
        or "all channels and campaigns"
    )
    model = selection.attribution_model.replace("_", " ")
    st.caption(
        f"{scope}; attribution: {model}. Tiles and breakdowns show the latest whole month in the date "
        "range; tiles compare it with the month before."
    )
    page.tiles(
        [
            ui.Tile("spend", "performance"),
            ui.Tile("attributed_conversion_value", "performance", "Attributed value"),
            ui.Tile("roas", "performance"),
            ui.Tile("cpa", "performance"),
            ui.Tile("channel_cac", "performance", "CAC (attributed)"),
            ui.Tile("attributed_new_customers", "performance"),
            ui.Tile("touchpoints", "touchpoints", note="all campaigns" if selection.campaign else None),
            ui.Tile(
                "conversions",
                "conversions",
                "Paid conversions",
                note="all channels" if selection.channel or selection.campaign else None,
            ),
        ]
    )
    by_channel, month = page.latest("by_channel")
    when = fmt.month(month)
    st.subheader(f"Channels — {when}, {model}")
    channels = by_channel[["channel", *PERFORMANCE]].sort_values("spend", ascending=False, na_position="last")
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Spend and attributed value by channel",
            channels,
            charts.compared_by(
                channels,
                "channel",
                [page.metric("spend"), page.metric("attributed_conversion_value")],
                title="USD",
            ),
            key="marketing_channels",
        )
    with right:
        ui.chart(
            "ROAS by channel",
            with_spend(channels),
            charts.compared_by(with_spend(channels), "channel", [page.metric("roas")]),
            key="marketing_channel_roas",
            note="Channels without spend have no ROAS and are left out.",
        )
    table(page, channels, ["channel"])
    by_campaign, _ = page.latest("by_campaign")
    st.subheader(f"Campaigns — {when}, {model}")
    campaigns = by_campaign[["channel", "campaign", *PERFORMANCE]].sort_values(
        "spend", ascending=False, na_position="last"
    )
    ui.chart(
        "Spend and attributed value by campaign",
        campaigns,
        charts.compared_by(
            campaigns,
            "campaign",
            [page.metric("spend"), page.metric("attributed_conversion_value")],
            title="USD",
        ),
        key="marketing_campaigns",
    )
    table(page, campaigns, ["channel", "campaign"])
    draw_models(page, when)
    draw_funnel(page)


def draw_models(page: ui.Page, when: str) -> None:
    by_model, _ = page.latest("by_model")
    st.subheader(f"The five attribution models side by side — {when}")
    models = by_model[
        ["channel", "attribution_model", "attributed_conversion_value", "roas", "cpa", "channel_cac"]
    ]
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Attributed value by channel and model",
            models,
            charts.grouped_bars(
                models, "channel", page.metric("attributed_conversion_value"), "attribution_model"
            ),
            key="marketing_models_value",
            note="Each model shares every conversion's value among its touches; the shares differ.",
        )
    with right:
        ui.chart(
            "ROAS by channel and model",
            with_spend(models),
            charts.grouped_bars(with_spend(models), "channel", page.metric("roas"), "attribution_model"),
            key="marketing_models_roas",
            note="Channels without spend have no ROAS and are left out.",
        )


def draw_funnel(page: ui.Page) -> None:
    funnel, month = page.latest("funnel")
    st.subheader(f"Funnel by channel — visitors first seen in {fmt.month(month)}")
    steps = funnel[["channel", *FUNNEL_STEPS, *FUNNEL_RATES]].sort_values("funnel_visitors", ascending=False)
    left, right = st.columns(2)
    with left:
        ui.chart(
            "Visit → signup → activation → paid",
            steps,
            charts.compared_by(
                steps, "channel", [page.metric(step) for step in FUNNEL_STEPS], title="People"
            ),
            key="marketing_funnel",
            note="Each step within 30 days of the one before; recent cohorts can still move on.",
        )
    with right:
        cohorts = page.data["funnel_cohorts"].assign(
            period=lambda frame: pd.to_datetime(frame["period"]).dt.strftime("%Y-%m-%d")
        )[["period", "channel", "funnel_visitors", "funnel_visitor_to_paid_rate"]]
        ui.chart(
            "Visit → paid by weekly cohort and channel",
            cohorts,
            charts.heat_map(
                cohorts,
                "channel",
                "period",
                page.metric("funnel_visitor_to_paid_rate"),
                x_title="Channel",
                y_title="Week of first visit",
            ),
            key="marketing_funnel_cohorts",
        )


def with_spend(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that have a ROAS (spend above zero): a row without one would be an empty bar."""
    return frame[frame["roas"].notna()]


def table(page: ui.Page, frame: pd.DataFrame, keys: list[str]) -> None:
    """The rows of a breakdown with each metric formatted as the catalogue says it reads."""
    shown = frame[keys].copy()
    for name in PERFORMANCE:
        metric = page.metric(name)
        shown[metric.label] = [fmt.metric_value(value, metric.format) for value in frame[name]]
    st.dataframe(shown, hide_index=True)


if __name__ == "__main__":
    ui.run_page(TITLE, setup, filters, plan, draw)
