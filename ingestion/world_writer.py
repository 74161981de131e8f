"""Puts a simulated world where real sources would be: landing files, PostgreSQL rows, CSV exports."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from dataclasses import asdict
from datetime import date

import psycopg

from ingestion.landing import filesystem_for
from ingestion.simulator import World

OPERATIONAL_DDL = """
create table if not exists users (
    id text primary key,
    email text not null,
    country text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    deleted_at timestamptz
);
create table if not exists plans (
    id text primary key,
    product text not null,
    name text not null,
    interval text not null check (interval in ('week', 'month', 'year')),
    interval_count integer not null check (interval_count > 0),
    unit_amount bigint not null,
    currency char(3) not null,
    updated_at timestamptz not null default '2025-01-01T00:00:00Z'
);
create table if not exists subscriptions (
    id text primary key,
    user_id text not null references users (id),
    plan_id text not null references plans (id),
    quantity integer not null check (quantity > 0),
    status text not null,
    trial_end timestamptz,
    started_at timestamptz not null,
    ended_at timestamptz,
    updated_at timestamptz not null,
    deleted_at timestamptz
);
"""


def _put(root: str, relative: str, payload: bytes) -> None:
    filesystem, base = filesystem_for(root)
    path = f"{base}/{relative}"
    filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with filesystem.open_output_stream(path) as out:
        out.write(payload)


def event_lines(world: World) -> dict[date, list[str]]:
    """The NDJSON lines of each day's file: true events, re-sent duplicates, malformed lines."""
    by_day: dict[date, list[str]] = defaultdict(list)
    public = [{k: v for k, v in e.items() if not k.startswith("_")} for e in world.events]
    for event, raw in zip(world.events, public, strict=True):
        by_day[event["_instant"].date()].append(json.dumps(raw, sort_keys=True))
    for event in world.duplicates:
        raw = {k: v for k, v in event.items() if not k.startswith("_")}
        by_day[event["_instant"].date()].append(json.dumps(raw, sort_keys=True))
    for day, lines in world.malformed_lines.items():
        by_day[day].extend(lines)
    return dict(by_day)


def write_landing(world: World, landing_root: str) -> list[str]:
    """Write event files (gzip on odd days) and CSV exports; returns the relative paths written."""
    written = []
    for day, lines in sorted(event_lines(world).items()):
        body = ("\n".join(lines) + "\n").encode()
        name = f"events/date={day.isoformat()}/events-{day.isoformat()}.ndjson"
        if day.toordinal() % 2:
            name, body = name + ".gz", gzip.compress(body, mtime=0)
        _put(landing_root, name, body)
        written.append(name)
    by_day: dict[date, list[dict]] = defaultdict(list)
    for row in world.ad_spend:
        by_day[row["date"]].append(row)
    for day, rows in sorted(by_day.items()):
        name = f"exports/ad_spend/ad_spend_{day.isoformat()}.csv"
        _put(landing_root, name, _csv(rows))
        written.append(name)
    name = f"exports/fx_rates/fx_rates_{world.fx_rates[0]['date']}_{world.fx_rates[-1]['date']}.csv"
    _put(landing_root, name, _csv(world.fx_rates))
    written.append(name)
    return written


def _csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def load_operational(world: World, dsn: str) -> dict[str, int]:
    """Create the operational tables and insert the world's rows; a second load changes nothing."""
    plans = [row | {"updated_at": "2025-01-01T00:00:00Z"} for row in world.plans]
    tables = {
        "users": [asdict(u) for u in world.users],
        "plans": plans,
        "subscriptions": [asdict(s) for s in world.subscriptions],
    }
    with psycopg.connect(dsn) as conn:
        conn.execute(OPERATIONAL_DDL)
        for table, rows in tables.items():
            columns = [c for c in rows[0] if c != "anonymous_id"]
            names = ", ".join(columns)
            placeholders = ", ".join(["%s"] * len(columns))
            with conn.cursor() as cur:
                cur.executemany(
                    f"insert into {table} ({names}) values ({placeholders}) on conflict (id) do nothing",
                    [tuple(row[c] for c in columns) for row in rows],
                )
    return {table: len(rows) for table, rows in tables.items()}
