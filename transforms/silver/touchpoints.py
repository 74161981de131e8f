"""Marketing touchpoints: visits (sessions landing on a page view) with the channel that brought them."""

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


def touchpoints(sessions: ir.Table) -> ir.Table:
    """Visits, each with the channel of its landing page view.

    A session that opens on a product event (the app used without a landing page) is not a touchpoint:
    the data contract makes a page view the landing of a visit, one touchpoint per visit, and the
    simulator's ground truth counts exactly those.
    """
    visits = sessions.filter(sessions.landing_event_type == "page_view")
    return visits.select(
        touchpoint_id="session_id",
        person_key="person_key",
        user_id="user_id",
        anonymous_id="anonymous_id",
        product="product",
        touched_at="started_at",
        touch_date="session_date",
        channel="channel",
        campaign="utm_campaign",
        utm_source="utm_source",
        referrer="referrer",
    )


TABLES = (
    SilverTable(
        "silver/touchpoints",
        ("silver/sessions",),
        touchpoints,
        partition_by=("touch_date",),
        description="Visits (sessions landing on a page view) with the channel from UTM and referrer.",
        keys=("touchpoint_id",),
        # A touchpoint is one session, on its day: the days whose sessions were rewritten are rebuilt.
        incremental=Incremental("touch_date", filters={"silver/sessions": "session_date"}),
    ),
)
