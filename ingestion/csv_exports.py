"""CSV exports (ad spend, FX rates) from the landing zone into bronze, idempotent per file."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from ingestion.bronze_writer import QUARANTINE_SCHEMA, Batch, BatchResult, write_batches
from ingestion.landing import Landing, pending_files, read_file, record_ingested
from lakehouse.lake import DeltaRsLake


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValueError(f"not an ISO currency code: {value!r}")
    return value


def _amount(value: str) -> float:
    amount = float(value)
    if amount < 0:
        raise ValueError(f"negative amount {value!r}")
    return amount


def _price(value: str) -> float:
    price = float(value)
    if price <= 0:
        raise ValueError(f"price must be positive, is {value!r}")
    return price


def _rate(value: str) -> float:
    rate = float(value)
    if rate <= 0:
        raise ValueError(f"rate must be positive, is {value!r}")
    return rate


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("empty")
    return value.strip()


@dataclass(frozen=True)
class Export:
    table: str
    prefix: str
    columns: dict[str, tuple[pa.DataType, Callable[[str], Any]]]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(name, kind) for name, (kind, _) in self.columns.items()] + [("_line", pa.int64())])


EXPORTS = (
    Export(
        "bronze/ad_spend",
        "exports/ad_spend",
        {
            "date": (pa.date32(), date.fromisoformat),
            "channel": (pa.string(), _text),
            "campaign": (pa.string(), _text),
            "currency": (pa.string(), _currency),
            "amount": (pa.float64(), _amount),
        },
    ),
    Export(
        "bronze/cloud_costs",
        "exports/cloud_costs",
        {
            "date": (pa.date32(), date.fromisoformat),
            "provider": (pa.string(), _text),
            "service": (pa.string(), _text),
            "product": (pa.string(), _text),
            "currency": (pa.string(), _currency),
            "amount": (pa.float64(), _amount),
        },
    ),
    Export(
        "bronze/llm_prices",
        "exports/llm_prices",
        {
            "date": (pa.date32(), date.fromisoformat),
            "model": (pa.string(), _text),
            "provider": (pa.string(), _text),
            "currency": (pa.string(), _currency),
            "price_per_1k_tokens": (pa.float64(), _price),
        },
    ),
    Export(
        "bronze/fx_rates",
        "exports/fx_rates",
        {
            "date": (pa.date32(), date.fromisoformat),
            "currency": (pa.string(), _currency),
            "rate_to_usd": (pa.float64(), _rate),
        },
    ),
)


def parse_export(export: Export, text: str) -> tuple[pa.Table, pa.Table]:
    """Rows of one CSV file in the export's schema, and its bad rows with the reason."""
    reader = csv.DictReader(io.StringIO(text))
    missing = set(export.columns) - set(reader.fieldnames or [])
    if missing:
        reason = f"header lacks column(s) {', '.join(sorted(missing))}"
        bad = [{"_line": 1, "reason": reason, "raw": text[:10_000]}]
        return export.schema.empty_table(), pa.Table.from_pylist(bad, schema=QUARANTINE_SCHEMA)
    rows, quarantined = [], []
    for number, record in enumerate(reader, start=2):
        try:
            if None in record:
                raise ValueError(f"more fields than the header's {len(reader.fieldnames or [])}")
            row = {name: parse(record[name] or "") for name, (_, parse) in export.columns.items()}
            rows.append(row | {"_line": number})
        except (ValueError, TypeError) as error:
            raw = ",".join(str(v) for v in record.values())
            quarantined.append({"_line": number, "reason": str(error), "raw": raw})
    return (
        pa.Table.from_pylist(rows, schema=export.schema),
        pa.Table.from_pylist(quarantined, schema=QUARANTINE_SCHEMA),
    )


def ingest_export(lake: DeltaRsLake, landing_root: str | Landing, export: Export) -> list[BatchResult]:
    """Ingest every export file not yet in bronze, all in one commit, each file exactly once."""
    todo, already = pending_files(lake, export.table, landing_root, export.prefix, (".csv",))
    results = [BatchResult(digest, 0, 0, skipped=True) for digest in already]
    landed = [read_file(landing_root, ref) for ref in todo]
    batches = []
    for file in landed:
        rows, quarantined = parse_export(export, file.text())
        batches.append(Batch(file.digest, file.path, rows, quarantined))
    if batches:
        results += write_batches(lake, export.table, batches)
        record_ingested(lake, export.table, landed)
    return results


BY_TABLE = {export.table: export for export in EXPORTS}
