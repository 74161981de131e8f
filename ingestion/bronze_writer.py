"""Writes one batch to bronze exactly once: good rows to the table, bad ones to its quarantine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from lakehouse.lake import DeltaRsLake

QUARANTINE_SCHEMA = pa.schema(
    [
        ("_line", pa.int64()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    rows: int
    quarantined: int
    skipped: bool


def with_lineage(data: pa.Table, batch_id: str, source: str, ingested_at: datetime) -> pa.Table:
    n = data.num_rows
    stamp = pa.array([ingested_at] * n, type=pa.timestamp("us", tz="UTC"))
    return (
        data.append_column("_batch_id", pa.array([batch_id] * n, type=pa.string()))
        .append_column("_source", pa.array([source] * n, type=pa.string()))
        .append_column("_ingested_at", stamp)
    )


def write_batch(
    lake: DeltaRsLake,
    table: str,
    rows: pa.Table,
    quarantined: list[dict],
    *,
    batch_id: str,
    source: str,
    partition_by: list[str] | None = None,
) -> BatchResult:
    """Append a batch under the application transaction `table:batch_id`, at most once.

    The quarantine rows commit first under their own transaction, so a crash between the two
    commits is finished by the next run without duplicating either side.
    """
    ingested_at = datetime.now(UTC)
    app_id = f"{table}:{batch_id}"
    if quarantined:
        bad = pa.Table.from_pylist(quarantined, schema=QUARANTINE_SCHEMA)
        lake.append(f"{table}_quarantine", with_lineage(bad, batch_id, source, ingested_at), app_id=app_id)
    commit = lake.append(
        table, with_lineage(rows, batch_id, source, ingested_at), app_id=app_id, partition_by=partition_by
    )
    return BatchResult(batch_id, 0 if commit.skipped else rows.num_rows, len(quarantined), commit.skipped)
