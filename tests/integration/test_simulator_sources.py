"""The simulator against a real PostgreSQL: idempotent reloads, advancing windows, one world per database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest

from ingestion import postgres_source
from ingestion.landing import Landing
from ingestion.operational_tables import OPERATIONAL_TABLES
from ingestion.simulation.config import SimConfig
from ingestion.simulation.postgres import OtherWorldError
from ingestion.simulation.writer import MARKER, STREAM_COMPRESSION
from ingestion.simulator import simulate
from ingestion.world_writer import load_operational, produce
from lakehouse.lake import DeltaRsLake
from lakehouse.postgres import operational_dsn
from lakehouse.settings import load_settings

pytestmark = pytest.mark.slow

CONFIG = SimConfig(seed=12, scale=0.05, start=date(2026, 1, 10), days=20)


@pytest.fixture
def dsn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LAKEHOUSE_DATA_DIR", str(tmp_path))
    return operational_dsn(load_settings())


def _snapshot(dsn: str) -> dict[str, list[tuple]]:
    with psycopg.connect(dsn) as conn:
        return {t: conn.execute(f"select * from {t} order by id").fetchall() for t in OPERATIONAL_TABLES}


def test_loading_the_same_window_again_changes_nothing(dsn: str, tmp_path: Path) -> None:
    first = produce(CONFIG, dsn=dsn)
    assert all(counts["updated"] == 0 for counts in first.loaded.values())
    assert all(first.loaded[t]["inserted"] > 0 for t in OPERATIONAL_TABLES), first.loaded
    before = _snapshot(dsn)
    again = produce(CONFIG, dsn=dsn)
    assert all(counts == {"inserted": 0, "updated": 0} for counts in again.loaded.values()), again.loaded
    assert _snapshot(dsn) == before


def test_the_database_holds_the_rows_of_the_in_memory_world(dsn: str) -> None:
    world = simulate(seed=CONFIG.seed, scale=CONFIG.scale, start=CONFIG.start, days=CONFIG.days)
    counts = load_operational(world, dsn)
    with psycopg.connect(dsn) as conn:
        for table in OPERATIONAL_TABLES:
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == counts[table], table
        ids = {r[0] for r in conn.execute("select id from subscriptions").fetchall()}
        running = conn.execute("select count(*) from subscriptions where ended_at is null").fetchone()[0]
    assert ids == {s.id for s in world.subscriptions}
    assert running == sum(s.ended_at is None for s in world.subscriptions)


def test_advancing_inserts_updates_and_soft_deletes(dsn: str, tmp_path: Path) -> None:
    produce(CONFIG, dsn=dsn)
    lake = DeltaRsLake(str(tmp_path / "lake"))
    for table in postgres_source.TABLES:
        postgres_source.ingest_table(lake, dsn, table)
    with psycopg.connect(dsn) as conn:
        before = dict(conn.execute("select id, updated_at from subscriptions").fetchall())
        invoices_before = dict(conn.execute("select id, updated_at from invoices").fetchall())

    advanced = produce(CONFIG.with_days(45), dsn=dsn)
    for table in (
        "users",
        "subscriptions",
        "invoices",
        "invoice_lines",
        "payments",
        "enrollments",
        "documents",
    ):
        assert advanced.loaded[table]["inserted"] > 0, table
    for table in ("subscriptions", "invoices", "enrollments"):
        assert advanced.loaded[table]["updated"] > 0, table
    with psycopg.connect(dsn) as conn:
        after = dict(conn.execute("select id, updated_at from subscriptions").fetchall())
        invoices_after = dict(conn.execute("select id, updated_at from invoices").fetchall())
        deleted = conn.execute("select count(*) from documents where deleted_at is not null").fetchone()[0]
        ended = conn.execute("select count(*) from subscriptions where ended_at is not null").fetchone()[0]
    assert before.keys() < after.keys()
    moved = [i for i in before if after[i] != before[i]]
    assert moved and all(after[i] > before[i] for i in moved)
    assert any(invoices_after[i] > invoices_before[i] for i in invoices_before)
    assert deleted > 0 and ended > 0

    # the extraction by (updated_at, id) watermark sees exactly the rows that changed or arrived
    changed = postgres_source.ingest_table(lake, dsn, "subscriptions")
    assert (
        changed.rows
        == advanced.loaded["subscriptions"]["inserted"] + advanced.loaded["subscriptions"]["updated"]
    )

    # and the advanced database is the one a fresh load of the longer window gives
    advanced_rows = _snapshot(dsn)
    with psycopg.connect(dsn) as conn:
        conn.execute("truncate " + ", ".join(OPERATIONAL_TABLES) + " cascade")
    produce(CONFIG.with_days(45), dsn=dsn)
    assert _snapshot(dsn) == advanced_rows


def test_an_s3_landing_zone_is_written_and_advanced_like_a_folder(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.services import s3_client, s3_environment

    for name, value in s3_environment(s3_endpoint, "lakehouse", "simulator").items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    options = settings.storage_options(settings.landing_uri)
    config = SimConfig(seed=2, scale=0.02, start=date(2026, 1, 10), days=4)
    first = produce(config, settings.landing_uri, storage_options=options)
    advanced = produce(config.with_days(6), settings.landing_uri, storage_options=options)
    assert advanced.summary.counts["files_kept"] == len(first.summary.files)
    assert (
        advanced.summary.counts["files_written"] == len(advanced.summary.files) - len(first.summary.files) + 1
    )
    listed = s3_client(s3_endpoint).list_objects_v2(Bucket="lakehouse", Prefix="simulator/landing/")[
        "Contents"
    ]
    names = {obj["Key"].removeprefix("simulator/landing/") for obj in listed if not obj["Key"].endswith("/")}
    world = simulate(seed=2, scale=0.02, start=date(2026, 1, 10), days=6)
    assert names - {MARKER} == world.files.keys()
    filesystem, base = Landing.at(settings.landing_uri, options).filesystem()
    for name, payload in world.files.items():
        with filesystem.open_input_stream(f"{base}/{name}", compression=STREAM_COMPRESSION) as stream:
            assert stream.read() == payload, name


def test_another_world_is_refused_unless_replaced(dsn: str, tmp_path: Path) -> None:
    produce(CONFIG, dsn=dsn)
    other = SimConfig(seed=13, scale=0.05, start=CONFIG.start, days=5)
    with pytest.raises(OtherWorldError):
        produce(other, str(tmp_path / "landing"), dsn=dsn)
    assert not (tmp_path / "landing" / "events").exists()  # refused before writing anything
    replaced = produce(other, dsn=dsn, replace=True)
    with psycopg.connect(dsn) as conn:
        users = conn.execute("select count(*) from users").fetchone()[0]
    assert users == replaced.loaded["users"]["inserted"] == replaced.summary.counts["users"]
