from __future__ import annotations

from datetime import UTC, date, datetime

import ibis
import pyarrow as pa

from transforms.silver.events import conform_events
from transforms.silver.operational import current_rows
from transforms.silver.touchpoints import classify_channel


def _run(expr) -> list[dict]:
    return ibis.duckdb.connect().to_pyarrow(expr).to_pylist()


def test_channels_follow_utm_first_then_referrer() -> None:
    cases = [
        # utm_source, utm_medium, referrer, expected
        ("google", "cpc", None, "paid_search"),
        ("facebook", "cpc", None, "paid_social"),
        ("linkedin", "paid_social", "https://www.linkedin.com/", "paid_social"),
        ("newsletter", "Email", None, "email"),
        ("partnerhub", "affiliate", None, "affiliate"),
        (None, None, "https://www.google.com/search?q=ai+course", "organic_search"),
        (None, None, "https://news.ycombinator.com/item", "referral"),
        (None, None, "", "direct"),
        (None, None, None, "direct"),
    ]
    table = ibis.memtable(
        pa.table(
            {
                "s": pa.array([c[0] for c in cases], pa.string()),
                "m": pa.array([c[1] for c in cases], pa.string()),
                "r": pa.array([c[2] for c in cases], pa.string()),
            }
        )
    )
    rows = _run(table.select(channel=classify_channel(table.s, table.m, table.r)))
    assert [r["channel"] for r in rows] == [c[3] for c in cases]


def test_first_received_copy_of_an_event_wins() -> None:
    early, late = datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    bronze = ibis.memtable(
        pa.table(
            {
                "event_id": ["a", "a", "b"],
                "event_type": ["signup", "signup", "notification_received"],
                "product": ["courses", "courses", "documents"],
                "occurred_at": [early, early, early],
                "event_date": [date(2026, 1, 2)] * 3,
                "user_id": ["u1", "u1", "u2"],
                "anonymous_id": [None, None, None],
                "context": ['{"utm_source": "google", "device": "mobile"}', "{}", "{}"],
                "properties": ["{}", "{}", "{}"],
                "_line": [9, 1, 2],
                "_batch_id": ["second", "first", "first"],
                "_source": ["f2", "f1", "f1"],
                "_ingested_at": [late, early, early],
            }
        )
    )
    rows = sorted(_run(conform_events(bronze)), key=lambda r: r["event_id"])
    assert [(r["event_id"], r["_batch_id"]) for r in rows] == [("a", "first"), ("b", "first")]
    assert rows[0]["utm_source"] is None  # the first copy had no context
    assert [r["is_active"] for r in rows] == [True, False]


def test_current_rows_take_the_latest_update_and_drop_soft_deletes() -> None:
    t1, t2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)
    bronze = ibis.memtable(
        pa.table(
            {
                "id": ["s1", "s1", "s2", "s2"],
                "status": ["trialing", "active", "active", "canceled"],
                "updated_at": [t1, t2, t1, t2],
                "deleted_at": pa.array([None, None, None, t2], pa.timestamp("us", tz="UTC")),
                "_batch_id": ["b1", "b2", "b1", "b2"],
                "_source": ["postgres:subscriptions"] * 4,
                "_ingested_at": [t1, t2, t1, t2],
            }
        )
    )
    rows = _run(current_rows(bronze))
    assert [(r["id"], r["status"]) for r in rows] == [("s1", "active")]
