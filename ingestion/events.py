"""Event files (newline-delimited JSON, gzip allowed) from the landing zone into bronze/events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from ingestion.bronze_writer import BatchResult, write_batch
from ingestion.landing import LandedFile, list_files, read_file
from lakehouse.lake import DeltaRsLake

TABLE = "bronze/events"
PRODUCTS = {"courses", "marketing", "documents"}
ENVELOPE = {
    "event_id",
    "event_type",
    "product",
    "occurred_at",
    "user_id",
    "anonymous_id",
    "context",
    "properties",
    "schema_version",
}
SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("product", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("event_date", pa.date32()),
        ("user_id", pa.string()),
        ("anonymous_id", pa.string()),
        ("context", pa.string()),
        ("properties", pa.string()),
        ("schema_version", pa.int32()),
        ("extra", pa.string()),
        ("_line", pa.int64()),
    ]
)


@dataclass(frozen=True)
class Rejected(Exception):
    reason: str


def parse_event(line: str) -> dict:
    """One line into a bronze row; raises Rejected with the reason the contract is broken."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise Rejected(f"malformed JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(record, dict):
        raise Rejected("not a JSON object")
    for name in ("event_id", "event_type", "product", "occurred_at"):
        if not isinstance(record.get(name), str) or not record[name]:
            raise Rejected(f"{name} missing or not a string")
    if record["product"] not in PRODUCTS:
        raise Rejected(f"unknown product {record['product']!r}")
    if not (record.get("user_id") or record.get("anonymous_id")):
        raise Rejected("neither user_id nor anonymous_id")
    try:
        occurred = datetime.fromisoformat(record["occurred_at"])
    except ValueError:
        raise Rejected(f"occurred_at is not ISO 8601: {record['occurred_at']!r}") from None
    if occurred.tzinfo is None:
        raise Rejected("occurred_at has no time zone")
    for name in ("context", "properties"):
        if not isinstance(record.get(name, {}), dict):
            raise Rejected(f"{name} is not an object")
    version = record.get("schema_version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise Rejected("schema_version is not an integer")
    occurred = occurred.astimezone(UTC)
    extra = {k: v for k, v in record.items() if k not in ENVELOPE}
    return {
        "event_id": record["event_id"],
        "event_type": record["event_type"],
        "product": record["product"],
        "occurred_at": occurred,
        "event_date": occurred.date(),
        "user_id": record.get("user_id"),
        "anonymous_id": record.get("anonymous_id"),
        "context": json.dumps(record.get("context") or {}, sort_keys=True),
        "properties": json.dumps(record.get("properties") or {}, sort_keys=True),
        "schema_version": version,
        "extra": json.dumps(extra, sort_keys=True) if extra else None,
    }


def parse_file(landed: LandedFile) -> tuple[pa.Table, list[dict]]:
    rows, quarantined = [], []
    for number, line in enumerate(landed.text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(parse_event(line) | {"_line": number})
        except Rejected as rejected:
            quarantined.append({"_line": number, "reason": rejected.reason, "raw": line})
    return pa.Table.from_pylist(rows, schema=SCHEMA), quarantined


def ingest_events(lake: DeltaRsLake, landing_root: str) -> list[BatchResult]:
    """Ingest every event file not yet in bronze; each file is one batch, identified by its content."""
    results = []
    for path in list_files(landing_root, "events", (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")):
        landed = read_file(landing_root, path)
        if lake.committed_version(TABLE, f"{TABLE}:{landed.digest}") is not None:
            results.append(BatchResult(landed.digest, 0, 0, skipped=True))
            continue
        rows, quarantined = parse_file(landed)
        results.append(
            write_batch(
                lake,
                TABLE,
                rows,
                quarantined,
                batch_id=landed.digest,
                source=path,
                partition_by=["event_date"],
            )
        )
    return results
