"""`python -m ingestion.simulator`: simulate a window and write it where the sources are."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

from ingestion.simulation.config import DirtConfig, SimConfig


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingestion.simulator",
        description="Simulate the AI business day by day and write its event files, CSV exports, operational "
        "PostgreSQL rows and ground truth. The same seed, scale and start give the same bytes; running again "
        "with more days keeps the files already written and adds the new days.",
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--scale", type=float, default=1.0, help="size: 1 is about a million events a year")
    p.add_argument(
        "--start", type=date.fromisoformat, default=date(2025, 1, 1), help="first day (YYYY-MM-DD)"
    )
    p.add_argument("--days", type=int, default=365, help="days in the window (default 365)")
    p.add_argument("--landing", help="landing zone: a folder or s3://bucket/prefix")
    p.add_argument("--postgres-dsn", help="operational PostgreSQL to load (postgresql://user:pw@host/db)")
    p.add_argument("--ground-truth", type=Path, help="folder for the ground-truth CSV files")
    p.add_argument("--no-dirt", action="store_true", help="no duplicates, late, malformed or skewed events")
    p.add_argument(
        "--replace", action="store_true", help="drop the rows of another world in the database first"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: list[str] | None = None) -> int:
    from ingestion.world_writer import produce

    args = parser().parse_args(argv)
    if not (args.landing or args.postgres_dsn or args.ground_truth):
        parser().error("nothing to write: give --landing, --postgres-dsn and/or --ground-truth")
    config = SimConfig(
        args.seed, args.scale, args.start, args.days, DirtConfig.none() if args.no_dirt else DirtConfig()
    )
    started = time.monotonic()

    def progress(day: date, summary) -> None:
        if not args.quiet and (day.day == 1 or day == config.end):
            lines = summary.counts["lines"]
            print(
                f"{day}  {lines:>12,} lines  {time.monotonic() - started:7.1f} s", file=sys.stderr, flush=True
            )

    options = None
    if args.landing and args.landing.startswith("s3://"):
        from lakehouse.settings import load_settings  # LAKEHOUSE_S3_ENDPOINT_URL, LAKEHOUSE_AWS_* reach S3

        options = load_settings().storage_options(args.landing)
    produced = produce(
        config,
        args.landing,
        args.postgres_dsn,
        args.ground_truth,
        storage_options=options,
        replace=args.replace,
        progress=progress,
    )
    elapsed = time.monotonic() - started
    counts = produced.summary.counts
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"simulated {config.days} days from {config.start} at scale {config.scale} (seed {config.seed})")
    print(f"  {elapsed:.1f} s, peak RSS {peak:.0f} MiB, {len(produced.summary.files)} files")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    if produced.loaded:
        print(
            "  postgres: "
            + ", ".join(f"{t} +{c['inserted']:,}/~{c['updated']:,}" for t, c in produced.loaded.items())
        )
    if produced.truth:
        print("  ground truth: " + ", ".join(f"{t} {n:,}" for t, n in produced.truth.items()))
    return 0
