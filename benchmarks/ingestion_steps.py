"""The timed steps of the ingestion benchmark, each run in its own process by benchmarks.run.

python -m benchmarks.ingestion_steps platform <landing> <lake>   the platform's bronze ingestion
python -m benchmarks.ingestion_steps minimum <landing> <lake>    polars reads, write_deltalake writes
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from benchmarks.measure import report


def platform_path(landing: str, lake_root: str) -> None:
    from ingestion.events import ingest_events
    from lakehouse.lake import DeltaRsLake

    started = time.perf_counter()
    results = ingest_events(DeltaRsLake(lake_root), landing)
    seconds = time.perf_counter() - started
    rows = sum(r.rows for r in results)
    report(seconds=seconds, rows=rows, quarantined=sum(r.quarantined for r in results), files=len(results))


def minimum_path(landing: str, lake_root: str) -> None:
    """The least any ingestion must do: read each file with polars and append it to a Delta table."""
    import polars as pl
    from deltalake import write_deltalake

    files = sorted(
        p for p in Path(landing, "events").rglob("*") if p.name.endswith((".ndjson", ".ndjson.gz"))
    )
    started = time.perf_counter()
    rows = 0
    for path in files:
        frame = pl.read_ndjson(path, infer_schema_length=None)  # the default 100 rows mistype sparse fields
        rows += frame.height
        write_deltalake(f"{lake_root}/events", frame.to_arrow(), mode="append", schema_mode="merge")
    report(seconds=time.perf_counter() - started, rows=rows, files=len(files))


if __name__ == "__main__":
    step, landing, lake = sys.argv[1:4]
    {"platform": platform_path, "minimum": minimum_path}[step](landing, lake)
