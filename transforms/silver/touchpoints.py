"""Marketing touchpoints: visits (sessions landing on a page view) with the channel that brought them."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from transforms.silver.sessions import touched_persons
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


def touchpoints(sessions: ir.Table, _events: ir.Table) -> ir.Table:
    """Visits, each with the channel of its landing page view.

    A session that opens on a product event (the app used without a landing page) is not a touchpoint:
    the data contract makes a page view the landing of a visit, one touchpoint per visit, and the
    simulator's ground truth counts exactly those. `_events` is an input only so that an incremental run
    can find the persons a change touches (see `touched_persons`).
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


def persons_changed(new_rows: ir.Table, _sessions: ir.Table, events: ir.Table) -> ir.Table:
    return touched_persons(new_rows, events)


def sessions_of_persons(values: list, sessions: ir.Table, events: ir.Table) -> tuple[ir.Table, ir.Table]:
    return sessions.filter(sessions.person_key.isin(values)), events


TABLES = (
    SilverTable(
        "silver/touchpoints",
        ("silver/sessions", "silver/events"),
        touchpoints,
        description="Visits (sessions landing on a page view) with the channel from UTM and referrer.",
        keys=("touchpoint_id",),
        # A touchpoint is one session of its person: the persons whose sessions changed are rebuilt. The
        # stitch that says which persons those are needs every signup, hence silver/events as an input.
        incremental=Incremental(
            "person_key", driver="bronze/events", changed=persons_changed, restrict=sessions_of_persons
        ),
    ),
)
