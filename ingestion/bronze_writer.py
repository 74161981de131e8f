"""Writes batches to bronze exactly once: good rows to the table, bad ones to its quarantine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from lakehouse.lake import DeltaRsLake

QUARANTINE_SCHEMA = pa.schema([("_line", pa.int64()), ("reason", pa.string()), ("raw", pa.string())])


@dataclass(frozen=True)
class Batch:
    """What one source unit (a file, a PostgreSQL window) gave: its rows and its rejected records."""

    batch_id: str
    source: str
    rows: pa.Table
    quarantined: pa.Table = field(default_factory=QUARANTINE_SCHEMA.empty_table)


@dataclass(frozen=True)
class BatchGroup:
    """Several batches parsed together: each row says its batch by position in `batch_ids`."""

    batch_ids: list[str]
    sources: list[str]
    rows: pa.Table  # with an int32 `_batch` column
    quarantined: pa.Table  # with an int32 `_batch` column

    @classmethod
    def of(cls, batches: list[Batch]) -> BatchGroup:
        def tagged(tables: list[pa.Table]) -> pa.Table:
            return pa.concat_tables(
                [
                    t.append_column("_batch", pa.repeat(pa.scalar(i, pa.int32()), t.num_rows))
                    for i, t in enumerate(tables)
                ],
                promote_options="permissive",
            )

        return cls(
            [b.batch_id for b in batches],
            [b.source for b in batches],
            tagged([b.rows for b in batches]),
            tagged([b.quarantined for b in batches]),
        )


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    rows: int
    quarantined: int
    skipped: bool


def app_id(table: str, batch_id: str) -> str:
    return f"{table}:{batch_id}"


def _with_lineage(data: pa.Table, table: str, group: BatchGroup, ingested_at: datetime) -> pa.Table:
    """Lineage columns taken from each row's batch, and the batch's app id as the write key."""
    index = data["_batch"]
    return (
        data.drop_columns(["_batch"])
        .append_column("_batch_id", pa.array(group.batch_ids, pa.string()).take(index))
        .append_column("_source", pa.array(group.sources, pa.string()).take(index))
        .append_column(
            "_ingested_at", pa.repeat(pa.scalar(ingested_at, pa.timestamp("us", tz="UTC")), data.num_rows)
        )
        .append_column(
            "_app_id", pa.array([app_id(table, b) for b in group.batch_ids], pa.string()).take(index)
        )
    )


def _counts(data: pa.Table, n: int) -> list[int]:
    counts = [0] * n
    for item in pc.value_counts(data["_batch"]).to_pylist():
        counts[item["values"]] = item["counts"]
    return counts


def write_group(
    lake: DeltaRsLake, table: str, group: BatchGroup, *, partition_by: list[str] | None = None
) -> list[BatchResult]:
    """Append the group's batches in one commit per table, each batch at most once.

    Every batch is an application transaction in both the quarantine's and the table's log. The
    quarantine commits first, so a crash between the two commits is finished by the next run without
    duplicating either side.
    """
    ingested_at = datetime.now(UTC)
    ids = [app_id(table, b) for b in group.batch_ids]
    rows, bad = _counts(group.rows, len(ids)), _counts(group.quarantined, len(ids))
    with_bad = [i for i, count in enumerate(bad) if count]
    if with_bad:
        quarantine = _with_lineage(group.quarantined, table, group, ingested_at)
        lake.append_batches(f"{table}_quarantine", quarantine, "_app_id", [ids[i] for i in with_bad])
    commit = lake.append_batches(
        table, _with_lineage(group.rows, table, group, ingested_at), "_app_id", ids, partition_by=partition_by
    )
    written = set(commit.app_ids)
    return [
        BatchResult(batch_id, rows[i], bad[i], skipped=False)
        if ids[i] in written
        else BatchResult(batch_id, 0, 0, skipped=True)
        for i, batch_id in enumerate(group.batch_ids)
    ]


def write_batches(
    lake: DeltaRsLake, table: str, batches: list[Batch], *, partition_by: list[str] | None = None
) -> list[BatchResult]:
    return write_group(lake, table, BatchGroup.of(batches), partition_by=partition_by)


def write_batch(
    lake: DeltaRsLake, table: str, batch: Batch, *, partition_by: list[str] | None = None
) -> BatchResult:
    return write_batches(lake, table, [batch], partition_by=partition_by)[0]
