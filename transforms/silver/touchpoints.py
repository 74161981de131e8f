"""Marketing touchpoints: landing page views with the channel that brought the visitor."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.table import Incremental, SilverTable

CHANNELS = ("paid_search", "paid_social", "email", "affiliate", "organic_search", "referral", "direct")
SEARCH_ENGINES = ("google.", "bing.", "duckduckgo.", "yahoo.", "ecosia.", "baidu.")
SOCIAL_SOURCES = ("facebook", "instagram", "linkedin", "twitter", "x", "tiktok", "reddit")


def classify_channel(
    utm_source: ir.StringValue, utm_medium: ir.StringValue, referrer: ir.StringValue
) -> ir.StringValue:
    """The acquisition channel from UTM parameters first, then the referrer; nothing at all is direct."""
    medium = utm_medium.lower()
    source = utm_source.lower()
    ref = referrer.lower()
    from_search_engine = ibis.or_(*[ref.contains(engine) for engine in SEARCH_ENGINES])
    return ibis.cases(
        (medium.isin(("cpc", "ppc", "paid_search", "sem")) & ~source.isin(SOCIAL_SOURCES), "paid_search"),
        (
            medium.isin(("paid_social", "cpm")) | (medium.isin(("cpc", "ppc")) & source.isin(SOCIAL_SOURCES)),
            "paid_social",
        ),
        (medium == "email", "email"),
        (medium == "affiliate", "affiliate"),
        (referrer.notnull() & from_search_engine, "organic_search"),
        (referrer.notnull() & (ref != ""), "referral"),
        else_="direct",
    )


def touchpoints(events: ir.Table) -> ir.Table:
    views = events.filter(events.event_type == "page_view")
    return views.select(
        touchpoint_id="event_id",
        anonymous_id="anonymous_id",
        user_id="user_id",
        product="product",
        touched_at="occurred_at",
        touch_date="event_date",
        channel=classify_channel(views.utm_source, views.utm_medium, views.referrer),
        campaign="utm_campaign",
        utm_source="utm_source",
        referrer="referrer",
    )


TABLES = (
    SilverTable(
        "silver/touchpoints",
        ("silver/events",),
        touchpoints,
        description="Landing page views with the acquisition channel derived from UTM and referrer.",
        keys=("touchpoint_id",),
        incremental=Incremental(
            "touch_date", driver="bronze/events", filters={"silver/events": "event_date"}
        ),
    ),
)
