"""Ingestion from the shell: `python -m ingestion.cli events|exports|postgres`, settings from LAKEHOUSE_*.

The same functions the Dagster assets call; useful for backfills, for scripts and for the tests that
kill an ingestion process halfway.
"""

from __future__ import annotations

import argparse
import json
import sys

from ingestion import csv_exports, events, postgres_source
from ingestion.landing import Landing
from lakehouse.lake import DeltaRsLake
from lakehouse.postgres import operational_dsn
from lakehouse.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingestion.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    ev = commands.add_parser("events", help="event files of the landing zone into bronze/events")
    ev.add_argument("--rows-per-commit", type=int, default=events.ROWS_PER_COMMIT)
    commands.add_parser("exports", help="CSV exports of the landing zone into bronze")
    pg = commands.add_parser("postgres", help="operational PostgreSQL tables into bronze")
    pg.add_argument("--table", action="append", help="only this table (repeatable)")
    pg.add_argument("--full-resync", action="store_true", help="compare every row, make deletes visible")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    landing = Landing.at(settings.landing_uri, settings.storage_options(settings.landing_uri))
    if args.command == "events":
        results = events.ingest_events(lake, landing, rows_per_commit=args.rows_per_commit)
    elif args.command == "exports":
        results = [
            r for export in csv_exports.EXPORTS for r in csv_exports.ingest_export(lake, landing, export)
        ]
    else:
        dsn = operational_dsn(settings)
        tables = args.table or list(postgres_source.TABLES)
        results = [postgres_source.ingest_table(lake, dsn, t, full_resync=args.full_resync) for t in tables]
    summary = {
        "batches_written": sum(not r.skipped for r in results),
        "batches_skipped": sum(r.skipped for r in results),
        "rows": sum(r.rows for r in results),
        "quarantined": sum(r.quarantined for r in results),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
