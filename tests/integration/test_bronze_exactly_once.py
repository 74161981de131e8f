"""Bronze ingestion against a real lake folder and a real PostgreSQL: replays change nothing."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from ingestion import csv_exports, events, postgres_source
from ingestion.simulator import simulate
from ingestion.world_writer import load_operational, write_landing
from lakehouse.lake import DeltaRsLake
from lakehouse.postgres import operational_dsn
from lakehouse.settings import load_settings


@pytest.fixture
def world():
    return simulate(seed=3, users=40, start=date(2026, 3, 1), days=3)


def test_event_files_are_ingested_once_even_when_replayed_or_renamed(tmp_path: Path, world) -> None:
    landing, lake = str(tmp_path / "landing"), DeltaRsLake(str(tmp_path / "lake"))
    written = write_landing(world, landing)
    first = events.ingest_events(lake, landing)
    lines = len(world.events) + len(world.duplicates)
    assert sum(r.rows for r in first) == lines
    assert not any(r.skipped for r in first)

    # the same file delivered again under another name is the same batch
    event_file = next(p for p in written if p.startswith("events/"))
    shutil.copy(
        Path(landing, event_file),
        Path(landing, "events", "redelivered.ndjson" + (".gz" if event_file.endswith(".gz") else "")),
    )
    again = events.ingest_events(lake, landing)
    assert all(r.skipped for r in again)
    assert lake.read("bronze/events", columns=["event_id"]).num_rows == lines

    # a new file is picked up alone
    Path(landing, "events", "late.ndjson").write_text(
        '{"event_id": "late-1", "event_type": "signup", "product": "documents", '
        '"occurred_at": "2026-03-01T08:00:00+01:00", "user_id": "user_00001"}\n{"broken"\n'
    )
    late = events.ingest_events(lake, landing)
    assert [(r.rows, r.quarantined) for r in late if not r.skipped] == [(1, 1)]
    quarantined = lake.read("bronze/events_quarantine").to_pylist()
    assert [(q["_line"], q["reason"]) for q in quarantined if q["_source"] == "events/late.ndjson"] == [
        (2, "malformed JSON")
    ]


def test_csv_exports_are_idempotent_per_file_and_quarantine_bad_rows(tmp_path: Path, world) -> None:
    landing, lake = str(tmp_path / "landing"), DeltaRsLake(str(tmp_path / "lake"))
    write_landing(world, landing)
    spend = csv_exports.BY_TABLE["bronze/ad_spend"]
    Path(landing, spend.prefix, "ad_spend_fix.csv").write_text(
        "date,channel,campaign,currency,amount\n2026-03-01,email,x,usd,10\n2026-03-02,email,x,USD,-1\n"
        "2026-03-02,email,x,USD,12.5\n"
    )
    for _ in range(2):
        for export in csv_exports.EXPORTS:
            csv_exports.ingest_export(lake, landing, export)
    rows = lake.read("bronze/ad_spend")
    assert rows.num_rows == len(world.ad_spend) + 1
    reasons = lake.read("bronze/ad_spend_quarantine").column("reason").to_pylist()
    assert reasons == ["not an ISO currency code: 'usd'", "negative amount '-1'"]
    assert lake.read("bronze/fx_rates").num_rows == len(world.fx_rates)


@pytest.mark.slow
def test_postgres_extraction_is_incremental_and_replay_safe(tmp_path: Path, world, monkeypatch) -> None:
    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path))
    dsn = operational_dsn(load_settings())
    load_operational(world, dsn)
    lake = DeltaRsLake(str(tmp_path / "lake"))
    first = {t: postgres_source.ingest_table(lake, dsn, t).rows for t in postgres_source.TABLES}
    assert {t: first[t] for t in ("users", "plans", "subscriptions")} == {
        "users": len(world.users),
        "plans": len(world.plans),
        "subscriptions": len(world.subscriptions),
    }
    assert all(postgres_source.ingest_table(lake, dsn, t).skipped for t in postgres_source.TABLES)

    changed = world.subscriptions[0].id
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "update subscriptions set status = 'canceled', ended_at = '2026-03-03T00:00:00Z', "
            "updated_at = '2026-03-03T00:00:00Z' where id = %s",
            (changed,),
        )
    result = postgres_source.ingest_table(lake, dsn, "subscriptions")
    assert result.rows == 1
    versions = lake.read("bronze/pg_subscriptions").to_pylist()
    history = sorted((v["updated_at"], v["status"]) for v in versions if v["id"] == changed)
    assert [status for _, status in history] == [
        "active" if world.subscriptions[0].ended_at is None else "canceled",
        "canceled",
    ]
    assert postgres_source.ingest_table(lake, dsn, "subscriptions").skipped


@pytest.mark.slow
def test_full_resync_makes_hard_deletes_visible_and_silver_drops_them(
    tmp_path: Path, world, monkeypatch
) -> None:
    import ibis

    from transforms.silver.operational import subscriptions

    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path))
    dsn = operational_dsn(load_settings())
    load_operational(world, dsn)
    lake = DeltaRsLake(str(tmp_path / "lake"))
    postgres_source.ingest_table(lake, dsn, "subscriptions")
    gone, kept = world.subscriptions[0].id, world.subscriptions[1].id
    with psycopg.connect(dsn) as conn:
        conn.execute("delete from subscriptions where id = %s", (gone,))
    # a watermark cannot see a hard delete
    assert postgres_source.ingest_table(lake, dsn, "subscriptions").skipped
    resync = postgres_source.ingest_table(lake, dsn, "subscriptions", full_resync=True)
    assert resync.rows == 1
    tombstones = [r for r in lake.read("bronze/pg_subscriptions").to_pylist() if r["_deleted"]]
    assert [t["id"] for t in tombstones] == [gone]
    # resyncing again finds nothing new
    assert postgres_source.ingest_table(lake, dsn, "subscriptions", full_resync=True).skipped
    current = (
        ibis.duckdb.connect()
        .to_pyarrow(subscriptions(ibis.memtable(lake.read("bronze/pg_subscriptions"))))
        .column("id")
        .to_pylist()
    )
    assert gone not in current and kept in current
    assert len(current) == len(world.subscriptions) - 1


def test_new_fields_are_kept_and_counted_as_schema_drift(tmp_path: Path) -> None:
    from collections import Counter

    landing, lake = tmp_path / "landing", DeltaRsLake(str(tmp_path / "lake"))
    base = {
        "event_type": "signup",
        "product": "courses",
        "occurred_at": "2026-03-01T08:00:00Z",
        "user_id": "u1",
    }
    lines = [
        {"event_id": "a"} | base,
        {"event_id": "b", "session_id": "s1"} | base,
        {"event_id": "c", "session_id": "s2", "ab_test": {"arm": "B"}} | base,
    ]
    (landing / "events").mkdir(parents=True)
    (landing / "events" / "drift.ndjson").write_text("\n".join(json.dumps(line) for line in lines))
    unknown: Counter[str] = Counter()
    events.ingest_events(lake, str(landing), unknown_fields=unknown)
    assert unknown == {"session_id": 2, "ab_test": 1}
    extras = {r["event_id"]: r["extra"] for r in lake.read("bronze/events").to_pylist()}
    assert extras["a"] is None
    assert json.loads(extras["c"]) == {"session_id": "s2", "ab_test": {"arm": "B"}}
    # nothing new the second time
    again: Counter[str] = Counter()
    events.ingest_events(lake, str(landing), unknown_fields=again)
    assert again == {}


def test_a_plain_gzip_file_dropped_by_a_user_is_read(tmp_path: Path) -> None:
    import gzip as gz

    landing, lake = tmp_path / "landing", DeltaRsLake(str(tmp_path / "lake"))
    (landing / "events").mkdir(parents=True)
    line = {
        "event_id": "z1",
        "event_type": "signup",
        "product": "documents",
        "occurred_at": "2026-03-01T08:00:00Z",
        "user_id": "u1",
    }
    (landing / "events" / "dropped.ndjson.gz").write_bytes(gz.compress((json.dumps(line) + "\n").encode()))
    results = events.ingest_events(lake, str(landing))
    assert [(r.rows, r.quarantined) for r in results] == [(1, 0)]


def test_a_writer_that_saw_no_table_skips_the_batches_another_writer_created_it_with(
    tmp_path: Path, monkeypatch
) -> None:
    # Two ingestion processes start on an empty lake: both see no table, one creates it with the batch.
    # The other must find the batch in the log, not append it a second time to the table now there.
    first, second = DeltaRsLake(str(tmp_path / "lake")), DeltaRsLake(str(tmp_path / "lake"))
    rows = pa.table({"day": ["2026-03-01", "2026-03-02"], "item": [1, 2]})
    assert first.append("bronze/items", rows, app_id="file-a", partition_by=["day"]).rows == 2
    looked = []

    def stale_exists(table: str) -> bool:  # the check made before the other writer's commit
        looked.append(table)
        return len(looked) > 1 and DeltaRsLake.exists(second, table)

    monkeypatch.setattr(second, "exists", stale_exists)
    replay = second.append("bronze/items", rows, app_id="file-a", partition_by=["day"])
    assert looked and replay.skipped and replay.rows == 0
    assert sorted(first.read("bronze/items").column("item").to_pylist()) == [1, 2]
