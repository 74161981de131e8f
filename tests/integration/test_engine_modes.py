"""The engine's incremental modes on tiny real Delta tables, each worked out by hand.

- an appending table (silver/events): a later copy of an event changes nothing, a late event lands in
  its own day, and the result is what a full build gives;
- a windowed table (silver/sessions) whose rewrite empties a day, and the table it drives
  (silver/touchpoints), which must notice the emptied day from the log's removed files.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa

from ingestion.events import SCHEMA as BRONZE_SCHEMA
from lakehouse.lake import DeltaRsLake
from transforms.engine import DuckDBEngine
from transforms.registry import SILVER_TABLES

TABLES = {table.name: table for table in SILVER_TABLES}
MIDNIGHT = datetime(2026, 3, 2, tzinfo=UTC)


def bronze(rows: list[tuple], batch: str, ingested_at: datetime) -> pa.Table:
    """Bronze events: (event_id, event_type, occurred_at, user_id, anonymous_id, context JSON)."""
    columns: dict[str, list] = {name: [] for name in BRONZE_SCHEMA.names}
    for line, (event_id, event_type, at, user, anon, context) in enumerate(rows):
        values = {
            "event_id": event_id,
            "event_type": event_type,
            "product": "courses",
            "occurred_at": at,
            "event_date": at.date(),
            "user_id": user,
            "anonymous_id": anon,
            "context": context,
            "properties": "{}",
            "schema_version": 1,
            "extra": None,
            "_line": line,
        }
        for name in BRONZE_SCHEMA.names:
            columns[name].append(values[name])
    table = pa.table(columns, schema=BRONZE_SCHEMA)
    return (
        table.append_column("_batch_id", pa.array([batch] * len(rows), pa.string()))
        .append_column("_source", pa.array([f"{batch}.jsonl"] * len(rows), pa.string()))
        .append_column("_ingested_at", pa.array([ingested_at] * len(rows), pa.timestamp("us", tz="UTC")))
    )


def run(lake: DeltaRsLake, *names: str, full: bool = False) -> dict:
    engine = DuckDBEngine(lake)
    try:
        return {name: engine.run(TABLES[name], full=full) for name in names}
    finally:
        engine.close()


def rows(lake: DeltaRsLake, table: str, key: str) -> list[dict]:
    return sorted(lake.read(table).to_pylist(), key=lambda row: row[key])


def test_an_appending_table_keeps_the_first_copy_and_adds_late_events(tmp_path) -> None:
    lake = DeltaRsLake(str(tmp_path / "lake"))
    day = MIDNIGHT + timedelta(days=5)
    first = [
        ("e1", "page_view", day, None, "a1", '{"utm_source": "first"}'),
        ("e2", "lesson_started", day + timedelta(hours=1), "u1", None, "{}"),
    ]
    lake.append("bronze/events", bronze(first, "b1", day), partition_by=["event_date"])
    assert run(lake, "silver/events")["silver/events"].mode == "full"
    later = [
        ("e1", "page_view", day, None, "a1", '{"utm_source": "second"}'),  # re-sent: the first copy stays
        ("e3", "lesson_started", day - timedelta(days=3), "u1", None, "{}"),  # late, three days back
        ("e4", "lesson_started", day + timedelta(hours=2), "u1", None, "{}"),
        ("e4", "lesson_started", day + timedelta(hours=2), "u1", None, '{"device": "dup"}'),  # twice in it
    ]
    lake.append("bronze/events", bronze(later, "b2", day + timedelta(days=1)), partition_by=["event_date"])
    incremental = run(lake, "silver/events")["silver/events"]
    assert incremental.mode == "incremental"
    assert incremental.commit.rows == 2  # e3 and e4
    assert lake.history("silver/events", 1)[0]["operationParameters"]["mode"] == "Append"
    built = rows(lake, "silver/events", "event_id")
    assert [(r["event_id"], r["_batch_id"], r["utm_source"], r["device"]) for r in built] == [
        ("e1", "b1", "first", None),
        ("e2", "b1", None, None),
        ("e3", "b2", None, None),
        ("e4", "b2", None, None),
    ]
    assert built[2]["event_date"] == (day - timedelta(days=3)).date()
    run(lake, "silver/events", full=True)
    assert rows(lake, "silver/events", "event_id") == built
    # Nothing new: the table is left alone.
    assert run(lake, "silver/events")["silver/events"].mode == "unchanged"


def test_a_day_emptied_by_a_session_rewrite_leaves_silver_touchpoints_too(tmp_path) -> None:
    lake = DeltaRsLake(str(tmp_path / "lake"))
    chain = ("silver/events", "silver/signups", "silver/identities", "silver/sessions", "silver/touchpoints")
    evening = MIDNIGHT - timedelta(minutes=10)  # 23:50 the day before
    first = [
        ("e1", "page_view", evening, "u1", None, "{}"),
        ("e2", "page_view", MIDNIGHT + timedelta(minutes=30), "u1", None, "{}"),  # 40 minutes later
    ]
    lake.append(
        "bronze/events", bronze(first, "b1", MIDNIGHT + timedelta(hours=1)), partition_by=["event_date"]
    )
    run(lake, *chain)
    assert {r["touch_date"] for r in lake.read("silver/touchpoints").to_pylist()} == {
        evening.date(),
        MIDNIGHT.date(),
    }
    # A late event at 00:10 bridges both: one session, landing the evening before; the day is empty.
    late = [("e9", "lesson_started", MIDNIGHT + timedelta(minutes=10), "u1", None, "{}")]
    lake.append(
        "bronze/events", bronze(late, "b2", MIDNIGHT + timedelta(hours=2)), partition_by=["event_date"]
    )
    runs = run(lake, *chain)
    assert runs["silver/sessions"].mode == runs["silver/touchpoints"].mode == "incremental"
    [session] = lake.read("silver/sessions").to_pylist()
    assert (session["session_id"], session["event_count"]) == ("u1:e1", 3)
    [touchpoint] = lake.read("silver/touchpoints").to_pylist()
    assert (touchpoint["touchpoint_id"], touchpoint["touch_date"]) == ("u1:e1", evening.date())
    incremental = {name: rows(lake, name, TABLES[name].keys[0]) for name in chain}
    run(lake, *chain, full=True)
    assert {name: rows(lake, name, TABLES[name].keys[0]) for name in chain} == incremental
