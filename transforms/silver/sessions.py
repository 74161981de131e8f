"""Identity stitching (anonymous id -> user at signup) and each person's events cut into sessions.

A person is the user an event names, else the user its anonymous id signed up as (also for the anonymous
activity before the signup), else the anonymous id. A session is a run of one person's events, in the
order (occurred_at, event_id), that starts at the person's first event, after a gap of MORE than
30 minutes (a gap of exactly 30 minutes continues the session), and at every page view carrying UTM tags
or a referrer (a new campaign click is a new visit, as web analytics count it). Passive events
(notifications, delivered e-mails) happen without the person and belong to no session.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import ibis.expr.types as ir

from transforms.silver.events import PASSIVE_EVENT_TYPES
from transforms.table import Incremental, SilverTable
from transforms.window import Scope, at_or_after

# An integer made an interval: the sqlglot in use cannot write an interval literal for DuckDB.
SESSION_TIMEOUT = ibis.literal(30).as_interval("m")
SESSION_TIMEOUT_PY = timedelta(minutes=30)
ACQUISITION_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "referrer")
# The event columns a session is made of (the properties, the largest, are not among them).
SESSION_EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "product",
    "occurred_at",
    "event_date",
    "user_id",
    "anonymous_id",
    *ACQUISITION_FIELDS,
    "device",
)


def _signups(events: ir.Table) -> ir.Table:
    return events.filter(
        (events.event_type == "signup") & events.anonymous_id.notnull() & events.user_id.notnull()
    )


def signups(bronze: ir.Table) -> ir.Table:
    """Every signup event, conformed as silver/events has it (first copy received)."""
    from transforms.silver.events import conform_events

    events = conform_events(bronze)
    return events.filter(events.event_type == "signup").select(
        "event_id", "event_type", "product", "occurred_at", "event_date", "user_id", "anonymous_id"
    )


def identities(events: ir.Table) -> ir.Table:
    """Each anonymous id that signed up, with the user of its first signup (earliest, then event_id);
    `events` is silver/signups, or any events table (only its signups count)."""
    signups = _signups(events)
    first = ibis.row_number().over(
        group_by=signups.anonymous_id, order_by=[signups.occurred_at, signups.event_id]
    )
    ranked = signups.mutate(_signup=first)
    return ranked.filter(ranked._signup == 0).select("anonymous_id", "user_id", stitched_at="occurred_at")


def with_person(events: ir.Table, links: ir.Table) -> ir.Table:
    """Events with `person_user` (their user or stitched user, else null) and `person_key`."""
    stitch = links.select(_stitched_anonymous_id="anonymous_id", _stitched_user_id="user_id")
    joined = events.left_join(stitch, events.anonymous_id == stitch._stitched_anonymous_id)
    person_user = joined.user_id.coalesce(joined._stitched_user_id)
    return joined.mutate(person_user=person_user, person_key=person_user.coalesce(joined.anonymous_id)).drop(
        "_stitched_anonymous_id", "_stitched_user_id"
    )


def _acquired(events: ir.Table) -> ir.BooleanValue:
    """A page view that a campaign or another site sent: it opens a new visit."""
    tagged = [events[name].notnull() & (events[name] != "") for name in ACQUISITION_FIELDS]
    return (events.event_type == "page_view") & ibis.or_(*tagged)


def sessions(events: ir.Table, links: ir.Table) -> ir.Table:
    """The sessions of the events' persons; `links` is silver/identities (every stitch, of all events)."""
    # touchpoints.py reads this module's tables, so the channel rule is imported when a build runs.
    from transforms.silver.touchpoints import classify_channel

    acted = events.filter(~events.event_type.isin(PASSIVE_EVENT_TYPES)).select(*SESSION_EVENT_COLUMNS)
    keyed = with_person(acted, links).filter(lambda t: t.person_key.notnull())
    order = [keyed.occurred_at, keyed.event_id]
    previous_at = keyed.occurred_at.lag().over(group_by=keyed.person_key, order_by=order)
    starts = keyed.mutate(
        _starts=previous_at.isnull() | (keyed.occurred_at > previous_at + SESSION_TIMEOUT) | _acquired(keyed)
    )
    running = ibis.cumulative_window(
        group_by=starts.person_key, order_by=[starts.occurred_at, starts.event_id]
    )
    numbered = starts.mutate(_session=starts._starts.cast("int64").sum().over(running))
    extent = numbered.group_by(["person_key", "_session"]).aggregate(
        ended_at=numbered.occurred_at.max(), event_count=numbered.event_id.count()
    )
    landings = numbered.filter(numbered._starts)
    visits = landings.join(extent, ["person_key", "_session"])
    return visits.select(
        session_id=visits.person_key + ":" + visits.event_id,
        person_key=visits.person_key,
        user_id=visits.person_user,
        anonymous_id=visits.anonymous_id,
        started_at=visits.occurred_at,
        ended_at=visits.ended_at,
        session_date=visits.event_date,
        event_count=visits.event_count,
        product=visits.product,
        landing_event_id=visits.event_id,
        landing_event_type=visits.event_type,
        utm_source=visits.utm_source,
        utm_medium=visits.utm_medium,
        utm_campaign=visits.utm_campaign,
        referrer=visits.referrer,
        device=visits.device,
        channel=classify_channel(visits.utm_source, visits.utm_medium, visits.referrer),
    )


def signed_up_anonymous_ids(new_rows: ir.Table, events: ir.Table) -> ir.Table:
    """The anonymous ids a new signup may stitch: only their own signups decide their user."""
    return _signups(new_rows).select("anonymous_id").distinct()


def changed_since(new: Scope, events: ir.Table, links: ir.Table, built: ir.Table) -> ir.Table:
    """Per person whose sessions new events change, the start (started_at, landing_event_id) of the
    first session that changes; null rebuilds all the person's sessions.

    A new event at t can only join sessions that end at t - 30 minutes or later, and every later session
    of the person ends later still: those (`reached_sessions`) are rebuilt from the earliest one's
    start, or from the event when it opens a session of its own. A new signup moves its anonymous id's
    sessions to the user, from the first of them.
    """
    new_rows = new.table.select("event_id", "event_type", "occurred_at", "user_id", "anonymous_id")
    acted = with_person(new_rows.filter(~new_rows.event_type.isin(PASSIVE_EVENT_TYPES)), links)
    own = _points(acted.filter(acted.person_key.notnull()), "person_key", "occurred_at", "event_id")
    new_signups = _signups(new_rows).select("anonymous_id").distinct()
    # The new signups' anonymous sessions, each a point of the anonymous id and of its user (one scan).
    visits = built.semi_join(new_signups, built.person_key == new_signups.anonymous_id).select(
        "person_key", "started_at", "landing_event_id"
    )
    stitch = links.select(_anonymous_id="anonymous_id", _user_id="user_id")
    linked = visits.left_join(stitch, visits.person_key == stitch._anonymous_id)
    both = linked.select(
        _person=ibis.array([linked.person_key, linked._user_id]).unnest(),
        started_at=linked.started_at,
        landing_event_id=linked.landing_event_id,
    )
    visited = _points(both.filter(both._person.notnull()), "_person", "started_at", "landing_event_id")
    return ibis.union(own, visited, _moved(new, events))


def reached_sessions(points: Scope, built: ir.Table) -> ir.Table:
    """The built sessions of each person that end 30 minutes before its point or later: the new events
    may join them. Only files holding sessions that end after the earliest point's reach are read."""
    earliest = points.least("started_at", nulls=False)
    if earliest is not None:
        built = built.filter(built.ended_at >= earliest - SESSION_TIMEOUT_PY)
    named = points.table.rename(_point_at="started_at", _point_id="landing_event_id")
    reached = built.inner_join(named, "person_key")
    reached = reached.filter(reached.ended_at >= reached._point_at - SESSION_TIMEOUT)
    return _points(reached, "person_key", "started_at", "landing_event_id")


def _moved(new: Scope, events: ir.Table) -> ir.Table:
    """Null points for the users an anonymous id's visits may move between.

    A new signup later than the anonymous id's known first one changes no stitch (its own event is a
    point already). One earlier than the known one moves the id's visits from the user of the later
    signup to its own user: both are rebuilt whole. Such a later signup is on or after the new one's
    day, so only those days are read.
    """
    new_rows = new.table
    new_signups = _signups(new_rows).select("anonymous_id").distinct()
    first_day = new.least("event_date")
    recent = events.filter(events.event_date >= first_day) if first_day is not None else events
    signups = _signups(recent).semi_join(new_signups, "anonymous_id")
    users = signups.select("anonymous_id", "user_id").distinct()
    counted = users.group_by("anonymous_id").aggregate(_users=users.user_id.count())
    shared = counted.filter(counted._users > 1)
    return _points(users.semi_join(shared, "anonymous_id"), "user_id", None, None)


def _points(rows: ir.Table, person: str, at: str | None, event_id: str | None) -> ir.Table:
    """(person_key, started_at, landing_event_id) rows, one type whatever they come from."""
    return rows.select(
        person_key=rows[person].cast("string"),
        started_at=(rows[at] if at else ibis.null()).cast("timestamp('UTC')"),
        landing_event_id=(rows[event_id] if event_id else ibis.null()).cast("string"),
    )


def events_since(scope: Scope, events: ir.Table, links: ir.Table) -> tuple[ir.Table, ir.Table]:
    """The events of each scope person from its point on (all of them for a null point)."""
    earliest = scope.earliest()
    if earliest is not None:  # a literal bound, so that only the partitions from that day on are read
        events = events.filter(events.event_date >= earliest.date())
    keyed = with_person(events, links)
    points = scope.table.rename(_point_at="started_at", _point_id="landing_event_id")
    joined = keyed.inner_join(points, "person_key")
    since = at_or_after([joined.occurred_at, joined.event_id], [joined._point_at, joined._point_id])
    return joined.filter(since).select(*SESSION_EVENT_COLUMNS), links


TABLES = (
    SilverTable(
        "silver/signups",
        ("bronze/events",),
        signups,
        description="Signup events (a few per thousand events), for identity stitching to read quickly.",
        keys=("event_id",),
        # Like silver/events, signups only arrive: the new bronze rows are conformed alone.
        incremental=Incremental("event_date", appends=True),
    ),
    SilverTable(
        "silver/identities",
        ("silver/signups",),
        identities,
        description="Anonymous ids stitched to the user of their first signup.",
        keys=("anonymous_id",),
        # An anonymous id's user depends only on its own signups, all of which the filter reads.
        incremental=Incremental(
            "anonymous_id",
            driver="bronze/events",
            filters={"silver/signups": "anonymous_id"},
            changed=signed_up_anonymous_ids,
        ),
    ),
    SilverTable(
        "silver/sessions",
        ("silver/events", "silver/identities"),
        sessions,
        partition_by=("session_date",),
        description="Visits: a person's events without a gap over 30 minutes, with the landing's channel.",
        keys=("session_id",),
        # A person's sessions depend only on that person's events (stitched identity included), and a
        # change reaches only the sessions from the one it can join on: those are rebuilt.
        incremental=Incremental(
            "person_key",
            driver="bronze/events",
            changed=changed_since,
            reach=reached_sessions,
            restrict=events_since,
            since=("started_at", "landing_event_id"),
        ),
    ),
)
