"""Exactly-once ingestion under replays, a killed process and concurrent writers, on a folder and on S3."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pyarrow.compute as pc
import pytest

from ingestion import csv_exports, events
from ingestion.landing import Landing, put_file
from lakehouse.lake import DeltaRsLake
from lakehouse.settings import load_settings
from tests.services import environ_with

pytestmark = pytest.mark.slow

FILES = 12
LINES_PER_FILE = 400


def _event(file: int, line: int) -> str:
    return json.dumps(
        {
            "event_id": f"f{file}-l{line}",
            "event_type": "lesson_completed",
            "product": "courses",
            "occurred_at": f"2026-02-{1 + file % 28:02d}T10:{line % 60:02d}:00+00:00",
            "user_id": f"user_{line % 37}",
            "context": {"device": "mobile"},
            "properties": {"lesson_id": f"l{line % 9}"},
        }
    )


def _landing_files(landing: Landing) -> int:
    """FILES event files; every 50th line is malformed. Returns the number of good lines."""
    good = 0
    for file in range(FILES):
        lines = []
        for line in range(LINES_PER_FILE):
            if line % 50 == 49:
                lines.append('{"event_id": "broken", ')
            else:
                lines.append(_event(file, line))
                good += 1
        put_file(
            landing, f"events/date=2026-02-{1 + file:02d}/part-{file:03d}.ndjson", "\n".join(lines).encode()
        )
    return good


def _open(storage: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[DeltaRsLake, Landing]:
    for name, value in storage.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    return lake, Landing.at(settings.landing_uri, settings.storage_options(settings.landing_uri))


def _assert_exactly_once(lake: DeltaRsLake, good: int) -> None:
    rows = lake.read(events.TABLE, columns=["event_id", "_source", "_line"])
    keys = Counter(zip(rows["_source"].to_pylist(), rows["_line"].to_pylist(), strict=True))
    assert rows.num_rows == good, f"{rows.num_rows} rows in bronze, {good} good lines landed"
    assert max(keys.values()) == 1
    assert pc.count_distinct(rows["event_id"]).as_py() == good
    quarantine = lake.read(events.TABLE + "_quarantine", columns=["_source", "_line"])
    assert quarantine.num_rows == FILES * (LINES_PER_FILE // 50)


def _ingest_process(storage: dict[str, str], rows_per_commit: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ingestion.cli", "events", "--rows-per-commit", str(rows_per_commit)],
        env=environ_with(storage),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_replaying_files_and_renamed_copies_adds_nothing(storage, monkeypatch) -> None:
    lake, landing = _open(storage, monkeypatch)
    good = _landing_files(landing)
    first = events.ingest_events(lake, landing, rows_per_commit=1_000)
    assert sum(r.rows for r in first) == good
    assert not any(r.skipped for r in first)
    # the whole folder again, and one file delivered a second time under another name
    put_file(
        landing,
        "events/redelivered/part-000-again.ndjson",
        "\n".join(
            _event(0, line) if line % 50 != 49 else '{"event_id": "broken", '
            for line in range(LINES_PER_FILE)
        ).encode(),
    )
    again = events.ingest_events(lake, landing)
    assert all(r.skipped for r in again) and len(again) == FILES + 1
    _assert_exactly_once(lake, good)


def test_a_process_killed_mid_run_then_rerun_ingests_every_line_once(storage, monkeypatch) -> None:
    lake, landing = _open(storage, monkeypatch)
    good = _landing_files(landing)
    # small commits, so the kill lands between commits of one run (or inside one)
    process = _ingest_process(storage, rows_per_commit=500)
    deadline = time.monotonic() + 120
    while (lake.version(events.TABLE) or 0) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the ingestion finished before it could be killed"
    partial = lake.read(events.TABLE, columns=["event_id"]).num_rows
    assert 0 < partial < good
    rerun = _ingest_process(storage, rows_per_commit=500)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    _assert_exactly_once(lake, good)


def test_two_processes_ingesting_at_once_lose_and_duplicate_nothing(storage, monkeypatch) -> None:
    lake, landing = _open(storage, monkeypatch)
    good = _landing_files(landing)
    processes = [_ingest_process(storage, rows_per_commit=700) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    written = sum(json.loads(out)["rows"] for out, _ in outputs)
    assert written == good  # between them, every line once
    _assert_exactly_once(lake, good)


def test_csv_exports_replay_and_quarantine(storage, monkeypatch) -> None:
    lake, landing = _open(storage, monkeypatch)
    put_file(
        landing,
        "exports/fx_rates/fx.csv",
        b"date,currency,rate_to_usd\n2026-02-01,EUR,1.08\n2026-02-01,GBP,0\n",
    )
    put_file(landing, "exports/fx_rates/fx-no-header.csv", b"2026-02-01,EUR,1.08\n")
    fx = csv_exports.BY_TABLE["bronze/fx_rates"]
    for _ in range(2):
        csv_exports.ingest_export(lake, landing, fx)
    assert lake.read(fx.table).num_rows == 1
    reasons = sorted(lake.read(fx.table + "_quarantine").column("reason").to_pylist())
    assert reasons == ["header lacks column(s) currency, date, rate_to_usd", "rate must be positive, is '0'"]
