"""Puts a simulated world where real sources would be: landing files, PostgreSQL rows, ground truth.

`produce` streams a world of any size day by day (files as each day ends, row versions spooled to disk,
ground truth to CSV); `write_landing` / `load_operational` put a small in-memory `simulate()` world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ingestion.landing import Landing
from ingestion.simulation import postgres
from ingestion.simulation.config import SimConfig
from ingestion.simulation.engine import Outputs, Summary, run
from ingestion.simulation.rows import NoRows, SpoolRows
from ingestion.simulation.writer import CsvTruth, LandingFiles
from ingestion.simulator import World


def write_landing(
    world: World, landing_root: str | Landing, storage_options: dict[str, str] | None = None
) -> list[str]:
    """Write the world's event files and CSV exports; returns the relative paths written."""
    files = LandingFiles(landing_root, storage_options)
    for name, payload in world.files.items():
        files.put(name, payload)
    return list(world.files)


def load_operational(world: World, dsn: str, replace: bool = False) -> dict[str, int]:
    """Create the operational tables and upsert the world's rows; a second load changes nothing.

    Returns the number of rows per table as of the window's end."""
    postgres.load(dsn, world.config, world.rows, replace=replace)
    return {table: len(rows) for table, rows in world.rows.tables.items()}


class _NoTruth:
    def emit(self, table: str, row: dict) -> None:
        pass


@dataclass
class Produced:
    summary: Summary
    loaded: dict[str, dict[str, int]] = field(default_factory=dict)  # per table: inserted, updated
    truth: dict[str, int] = field(default_factory=dict)  # ground-truth rows per table


def produce(
    config: SimConfig,
    landing: str | Landing | None = None,
    dsn: str | None = None,
    ground_truth: Path | None = None,
    *,
    storage_options: dict[str, str] | None = None,
    replace: bool = False,
    progress: Callable[[date, Summary], None] | None = None,
) -> Produced:
    """Simulate and write day by day: memory stays bounded whatever the scale."""
    files = LandingFiles(landing, storage_options) if landing is not None else None
    identity = {
        "seed": config.seed,
        "scale": config.scale,
        "start": str(config.start),
        "dirt": repr(config.dirt),
    }
    marker = files.read_marker() if files is not None else None
    if marker is not None and {k: marker.get(k) for k in identity} != identity:
        if not replace:
            raise postgres.OtherWorldError(
                f"the landing zone holds another simulated world ({marker}); write into an empty landing "
                "zone, or pass replace=True (--replace) to overwrite its files"
            )
        marker = None
    if files is not None and marker is not None:
        files.kept_until = str(min(config.end, date.fromisoformat(marker["last_day"])))
    if dsn:
        postgres.claim(dsn, config, replace)  # before any file is written: refuse another world early
    spool = SpoolRows() if dsn else None
    truth = CsvTruth(ground_truth) if ground_truth is not None else None
    try:
        summary = run(config, Outputs(files, spool or NoRows(), truth or _NoTruth(), progress=progress))
        produced = Produced(summary)
        if files is not None:
            last = max(config.end, date.fromisoformat(marker["last_day"])) if files.kept_until else config.end
            files.write_marker(identity | {"last_day": str(last)})
            summary.counts["files_written"], summary.counts["files_kept"] = files.written, files.kept
        if truth is not None:
            produced.truth = truth.close()
        if spool is not None and dsn:
            produced.loaded = postgres.load(dsn, config, spool.close(), replace=replace)
        return produced
    finally:
        if spool is not None:
            spool.cleanup()
