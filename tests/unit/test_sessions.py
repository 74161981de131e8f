"""Sessions, identity stitching and touchpoints on tiny event sets whose sessions are worked out by hand."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from transforms.silver.sessions import (
    TABLES,
    events_since,
    identities,
    sessions,
    signed_up_anonymous_ids,
)
from transforms.silver.touchpoints import touchpoints
from transforms.window import Scope, in_window, window_points

SESSIONS = next(t for t in TABLES if t.name == "silver/sessions")

DAY = datetime(2026, 3, 2, tzinfo=UTC)
ACQUISITION = ("utm_source", "utm_medium", "utm_campaign", "referrer")
SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("product", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("event_date", pa.date32()),
        ("user_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("utm_source", pa.string()),
        ("utm_medium", pa.string()),
        ("utm_campaign", pa.string()),
        ("referrer", pa.string()),
        ("device", pa.string()),
        ("properties", pa.string()),
        ("is_active", pa.bool_()),
        ("_batch_id", pa.string()),
    ]
)


def event(
    event_id: str,
    event_type: str,
    at: timedelta,
    user: str | None = None,
    anon: str | None = None,
    **context: str,
) -> dict:
    """A silver event `at` after DAY's midnight; `context` holds utm_* and referrer."""
    occurred = DAY + at
    return {
        "event_id": event_id,
        "event_type": event_type,
        "product": "courses",
        "occurred_at": occurred,
        "event_date": occurred.date(),
        "user_id": user,
        "anonymous_id": anon,
        **{name: context.get(name) for name in ACQUISITION},
        "device": "desktop",
        "properties": "{}",
        "is_active": user is not None,
        "_batch_id": "b1",
    }


def table(rows: list[dict]) -> ir.Table:
    return ibis.memtable(pa.Table.from_pylist(rows, schema=SCHEMA))


def sessions_of(events: ir.Table) -> ir.Table:
    """silver/sessions built on these events and the identities they stitch."""
    return sessions(events, identities(events))


def run(expr: ir.Table) -> list[dict]:
    return ibis.duckdb.connect().to_pyarrow(expr).to_pylist()


def by_id(rows: list[dict], key: str = "session_id") -> dict[str, dict]:
    return {row[key]: row for row in rows}


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def test_a_gap_of_exactly_30_minutes_continues_the_session_and_one_second_more_starts_one() -> None:
    rows = run(
        sessions_of(
            table(
                [
                    event("e1", "lesson_started", minutes(600), user="u1"),
                    event("e2", "lesson_completed", minutes(630), user="u1"),  # exactly 30 min later
                    event("e3", "lesson_started", minutes(660) + timedelta(seconds=1), user="u1"),
                ]
            )
        )
    )
    assert {(r["session_id"], r["event_count"], r["ended_at"]) for r in rows} == {
        ("u1:e1", 2, DAY + minutes(630)),
        ("u1:e3", 1, DAY + minutes(660) + timedelta(seconds=1)),
    }


def test_a_page_view_with_utm_tags_or_a_referrer_starts_a_session() -> None:
    rows = run(
        sessions_of(
            table(
                [
                    event("e1", "page_view", minutes(600), user="u1"),
                    event("e2", "lesson_started", minutes(605), user="u1"),
                    event("e3", "page_view", minutes(610), user="u1", utm_source="google", utm_medium="cpc"),
                    event("e4", "lesson_started", minutes(615), user="u1"),
                    event("e5", "page_view", minutes(620), user="u1", referrer="https://news.example.org/"),
                    # an empty referrer and no tags: an internal page, the visit goes on
                    event("e6", "page_view", minutes(625), user="u1", referrer=""),
                    # UTM context on an event that is not a page view opens nothing
                    event(
                        "e7", "signup", minutes(626), user="u1", utm_source="newsletter", utm_medium="email"
                    ),
                ]
            )
        )
    )
    assert {(r["session_id"], r["event_count"], r["channel"]) for r in rows} == {
        ("u1:e1", 2, "direct"),
        ("u1:e3", 2, "paid_search"),
        ("u1:e5", 3, "referral"),
    }


def test_passive_events_belong_to_no_session_and_do_not_bridge_a_gap() -> None:
    rows = run(
        sessions_of(
            table(
                [
                    event("e1", "email_delivered", minutes(180), user="u1"),
                    event("e2", "lesson_started", minutes(600), user="u1"),
                    event("e3", "notification_received", minutes(625), user="u1"),
                    event("e4", "lesson_started", minutes(650), user="u1"),
                ]
            )
        )
    )
    assert sorted((r["session_id"], r["event_count"]) for r in rows) == [("u1:e2", 1), ("u1:e4", 1)]


def stitched_visitor() -> list[dict]:
    """a1 browses anonymously twice, signs up as u1 on its second visit and learns; a2 never signs up."""
    return [
        event("e1", "page_view", minutes(60), anon="a1", utm_source="facebook", utm_medium="cpc"),
        event("e2", "page_view", minutes(600), anon="a1", referrer="https://www.google.com/"),
        event("e3", "signup", minutes(610), user="u1", anon="a1"),
        event("e4", "lesson_started", minutes(620), user="u1"),
        event("e5", "page_view", minutes(615), anon="a2"),
    ]


def test_anonymous_visits_before_the_signup_belong_to_the_user() -> None:
    rows = by_id(run(sessions_of(table(stitched_visitor()))))
    assert {
        key: (r["person_key"], r["user_id"], r["anonymous_id"], r["event_count"], r["channel"])
        for key, r in rows.items()
    } == {
        "u1:e1": ("u1", "u1", "a1", 1, "paid_social"),
        "u1:e2": ("u1", "u1", "a1", 3, "organic_search"),
        "a2:e5": ("a2", None, "a2", 1, "direct"),
    }
    assert run(identities(table(stitched_visitor()))) == [
        {"anonymous_id": "a1", "user_id": "u1", "stitched_at": DAY + minutes(610)}
    ]


def test_an_anonymous_id_signed_up_twice_belongs_to_the_user_of_its_first_signup() -> None:
    events = [
        event("e1", "page_view", minutes(60), anon="a1"),
        event("s2", "signup", minutes(120), user="u2", anon="a1"),
        event("s1", "signup", minutes(90), user="u1", anon="a1"),
        # the same instant: the smaller event_id decides
        event("t2", "signup", minutes(90), user="u4", anon="a3"),
        event("t1", "signup", minutes(90), user="u3", anon="a3"),
    ]
    assert {r["anonymous_id"]: r["user_id"] for r in run(identities(table(events)))} == {
        "a1": "u1",
        "a3": "u3",
    }
    rows = by_id(run(sessions_of(table(events))))
    assert rows["u1:e1"]["event_count"] == 2  # the page view and u1's signup; u2's signup is u2's
    assert rows["u2:s2"]["anonymous_id"] == "a1"


def test_sessions_are_the_same_in_any_input_order_and_named_by_person_and_landing() -> None:
    events = stitched_visitor()
    shuffled = events[:]
    random.Random(3).shuffle(shuffled)
    first, second = run(sessions_of(table(events))), run(sessions_of(table(shuffled)))
    assert sorted(first, key=lambda r: r["session_id"]) == sorted(second, key=lambda r: r["session_id"])
    assert all(r["session_id"] == f"{r['person_key']}:{r['landing_event_id']}" for r in first)


def test_the_session_takes_product_device_and_acquisition_of_its_first_event() -> None:
    landing = event("e1", "page_view", minutes(60), user="u1", utm_source="facebook", utm_medium="cpc")
    landing |= {"product": "documents", "device": "mobile", "utm_campaign": "spring"}
    later = event("e2", "document_requested", minutes(61), user="u1", utm_source="google", utm_medium="cpc")
    later |= {"product": "marketing", "device": "desktop"}
    [row] = run(sessions_of(table([later, landing])))
    assert (row["product"], row["device"], row["utm_campaign"], row["channel"], row["session_date"]) == (
        "documents",
        "mobile",
        "spring",
        "paid_social",
        date(2026, 3, 2),
    )
    assert (row["started_at"], row["ended_at"], row["landing_event_type"]) == (
        DAY + minutes(60),
        DAY + minutes(61),
        "page_view",
    )


def bronze(rows: list[dict]) -> Scope:
    """New bronze/events rows: the envelope with its context still JSON, as the driver hands them over."""
    envelope = [
        {
            "event_id": r["event_id"],
            "event_type": r["event_type"],
            "product": r["product"],
            "occurred_at": r["occurred_at"],
            "event_date": r["event_date"],
            "user_id": r["user_id"],
            "anonymous_id": r["anonymous_id"],
            "context": "{}",
            "properties": r["properties"],
            "_batch_id": "b2",
        }
        for r in rows
    ]
    schema = pa.schema(
        [SCHEMA.field(name) if name in SCHEMA.names else (name, pa.string()) for name in envelope[0]]
    )
    rows = pa.Table.from_pylist(envelope, schema=schema)
    return Scope(ibis.memtable(rows), rows)


def materialized(expr: ir.Table) -> ir.Table:
    return ibis.memtable(ibis.duckdb.connect().to_pyarrow(expr))


def values_of(changed: ir.Table) -> list[str]:
    [column] = changed.columns
    return sorted(r[column] for r in run(changed))


def replace(old: list[dict], rebuilt: list[dict], column: str, values: list[str]) -> list[dict]:
    """What the engine's MERGE leaves: rows outside the scope values kept, those inside replaced."""
    return [r for r in old if r[column] not in values] + rebuilt


def sessions_after(old_events: list[dict], new_events: list[dict]) -> tuple[list[dict], list[str]]:
    """silver/sessions built on the old events, then brought up to date as the engine does: each person
    a change reaches rebuilt from its point on, the rest kept."""
    everything = table(old_events + new_events)
    links = materialized(identities(everything))
    before = run(sessions_of(table(old_events)))
    built = materialized(sessions_of(table(old_events)))
    execute = ibis.duckdb.connect().to_pyarrow
    points = window_points(SESSIONS, bronze(new_events), [everything, links], built, ibis.memtable, execute)
    scope = Scope(ibis.memtable(points), points)
    rebuilt = run(sessions(*events_since(scope, everything, links)))
    replaced = {r["session_id"] for r in run(in_window(SESSIONS, scope, built))}
    after = [r for r in before if r["session_id"] not in replaced] + rebuilt
    return after, sorted(points.column("person_key").to_pylist())


def same_rows(left: list[dict], right: list[dict], key: str = "session_id") -> bool:
    return sorted(left, key=lambda r: r[key]) == sorted(right, key=lambda r: r[key])


def test_a_late_signup_rewrites_the_anonymous_sessions_under_the_user() -> None:
    old, new = stitched_visitor()[:2] + stitched_visitor()[4:], stitched_visitor()[2:4]
    before = run(sessions_of(table(old)))
    assert {r["person_key"] for r in before} == {"a1", "a2"}
    after, values = sessions_after(old, new)
    assert values == ["a1", "u1"]
    assert same_rows(after, run(sessions_of(table(old + new))))
    assert {r["session_id"] for r in after} == {"u1:e1", "u1:e2", "a2:e5"}


def test_a_late_signup_older_than_the_known_one_moves_the_visits_to_its_user() -> None:
    old = [
        event("e1", "page_view", minutes(60), anon="a1"),
        event("s2", "signup", minutes(120), user="u2", anon="a1"),
        event("e2", "lesson_started", minutes(125), user="u2"),
    ]
    new = [event("s1", "signup", minutes(70), user="u1", anon="a1")]
    assert {r["person_key"] for r in run(sessions_of(table(old)))} == {"u2"}
    after, values = sessions_after(old, new)
    assert values == ["u1", "u2"]  # a1 has no session of its own: both users are rebuilt whole
    assert same_rows(after, run(sessions_of(table(old + new))))
    assert {r["session_id"] for r in after} == {"u1:e1", "u2:s2"}


def test_a_late_anonymous_event_of_a_known_user_can_join_two_of_its_sessions() -> None:
    old = [
        event("s1", "signup", minutes(0), user="u1", anon="a1"),
        event("e1", "lesson_started", minutes(600), user="u1"),
        event("e2", "lesson_started", minutes(660), user="u1"),
        event("x1", "lesson_started", minutes(600), user="u9"),
    ]
    new = [event("e9", "page_view", minutes(630), anon="a1")]
    after, values = sessions_after(old, new)
    assert values == ["u1"]
    assert same_rows(after, run(sessions_of(table(old + new))))
    assert {(r["session_id"], r["event_count"]) for r in after if r["person_key"] == "u1"} == {
        ("u1:s1", 1),
        ("u1:e1", 3),
    }


def test_new_passive_events_touch_no_session() -> None:
    new = [event("n1", "notification_received", minutes(30), user="u1")]
    after, values = sessions_after(stitched_visitor(), new)
    assert values == []
    assert same_rows(after, run(sessions_of(table(stitched_visitor()))))


def crowd() -> list[dict]:
    """Several persons whose stitches cross: a1 signs up twice (u1 first), u2 signs up from a2 and a3."""
    return [
        *stitched_visitor(),
        event("f1", "page_view", minutes(30), anon="a3", utm_source="newsletter", utm_medium="email"),
        event("f2", "signup", minutes(40), user="u2", anon="a3"),
        event("f3", "page_view", minutes(700), anon="a4", referrer="https://www.bing.com/"),
        event("f4", "signup", minutes(705), user="u2", anon="a4"),
        event("f5", "content_generated", minutes(720), user="u2"),
        event("f6", "signup", minutes(900), user="u5", anon="a1"),
        event("f7", "document_exported", minutes(901), user="u5"),
        event("f8", "page_view", minutes(1000), anon="a6"),
    ]


def test_restricted_to_points_the_sessions_are_those_of_the_full_build_from_there() -> None:
    events = table(crowd())
    links = materialized(identities(events))
    full = run(sessions_of(events))
    persons = sorted({r["person_key"] for r in full})
    assert persons == ["a2", "a6", "u1", "u2", "u5"]
    starts = sorted((r["started_at"], r["landing_event_id"], r["person_key"]) for r in full)
    cases = [[(p, None, None)] for p in persons] + [[(p, at, event_id)] for at, event_id, p in starts]
    latest = {p: (p, at, event_id) for at, event_id, p in starts}  # one point per person, its last start
    cases.append([*latest.values(), ("nobody", None, None)])
    for case in cases:
        points = pa.table(
            {
                "person_key": [p for p, _, _ in case],
                "started_at": pa.array([at for _, at, _ in case], pa.timestamp("us", tz="UTC")),
                "landing_event_id": pa.array([event_id for _, _, event_id in case], pa.string()),
            }
        )
        local = run(sessions(*events_since(Scope(ibis.memtable(points), points), events, links)))
        expected = [
            r
            for r in full
            for p, at, event_id in case
            if r["person_key"] == p
            and (at is None or (r["started_at"], r["landing_event_id"]) >= (at, event_id))
        ]
        assert same_rows(local, expected), case


def test_identities_are_brought_up_to_date_from_the_anonymous_ids_of_new_signups() -> None:
    events = crowd()
    old, new = events[:-4], events[-4:]  # u5's signup from a1 arrives late but changes nothing
    everything = table(events)
    values = values_of(signed_up_anonymous_ids(bronze(new).table, everything))
    assert values == ["a1"]
    restricted = everything.filter(everything.anonymous_id.isin(values))
    after = replace(run(identities(table(old))), run(identities(restricted)), "anonymous_id", values)
    assert same_rows(after, run(identities(everything)), key="anonymous_id")
    assert {r["anonymous_id"]: r["user_id"] for r in after} == {"a1": "u1", "a3": "u2", "a4": "u2"}


def test_touchpoints_are_the_sessions_landing_on_a_page_view() -> None:
    events = crowd()
    full_sessions = materialized(sessions_of(table(events)))
    expected = run(touchpoints(full_sessions))
    assert {(r["touchpoint_id"], r["touch_date"], r["channel"], r["user_id"]) for r in expected} == {
        ("u1:e1", date(2026, 3, 2), "paid_social", "u1"),
        ("u1:e2", date(2026, 3, 2), "organic_search", "u1"),
        ("a2:e5", date(2026, 3, 2), "direct", None),
        ("u2:f1", date(2026, 3, 2), "email", "u2"),
        ("u2:f3", date(2026, 3, 2), "organic_search", "u2"),
        ("a6:f8", date(2026, 3, 2), "direct", None),
    }


def test_sessions_compile_for_spark() -> None:
    sql = ibis.to_sql(sessions_of(table(crowd())), dialect="pyspark")
    assert "INTERVAL" in sql.upper()
