"""Operational PostgreSQL tables into bronze, incrementally by (updated_at, id) watermark.

The watermark is not kept anywhere else: it is the largest (updated_at, id) already in the bronze
table, so it is committed together with the rows it describes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

from ingestion.bronze_writer import Batch, BatchResult, write_batch
from lakehouse.lake import DeltaRsLake

TABLES = ("users", "plans", "subscriptions")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ARROW_TYPES = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    25: pa.string(),
    700: pa.float64(),
    701: pa.float64(),
    1042: pa.string(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    1700: pa.float64(),
}


def bronze_table(table: str) -> str:
    return f"bronze/pg_{table}"


def watermark(lake: DeltaRsLake, table: str) -> tuple[datetime, str]:
    target = bronze_table(table)
    if not lake.exists(target):
        return EPOCH, ""
    seen = lake.read(target, columns=["updated_at", "id"])
    if seen.num_rows == 0:
        return EPOCH, ""
    latest = pc.max(seen["updated_at"]).as_py()
    ids = seen.filter(pc.equal(seen["updated_at"], pa.scalar(latest, seen.schema.field("updated_at").type)))
    return latest, pc.max(ids["id"]).as_py()


def extract(conn: psycopg.Connection, table: str, after: tuple[datetime, str]) -> pa.Table:
    query = sql.SQL("select * from {} where (updated_at, id) > (%s, %s) order by updated_at, id").format(
        sql.Identifier(table)
    )
    with conn.cursor() as cur:
        cur.execute(query, after)
        schema = pa.schema(
            [(col.name, _ARROW_TYPES.get(col.type_code, pa.string())) for col in cur.description or []]
        )
        rows = cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays(
        [
            pa.array([_coerce(v, f.type) for v in column], type=f.type)
            for column, f in zip(columns, schema, strict=True)
        ],
        schema=schema,
    )


def _coerce(value: object, kind: pa.DataType) -> object:
    if value is not None and pa.types.is_string(kind) and not isinstance(value, str):
        return str(value)
    return value


def ingest_table(lake: DeltaRsLake, dsn: str, table: str) -> BatchResult:
    after = watermark(lake, table)
    with psycopg.connect(dsn) as conn:
        rows = extract(conn, table, after)
    if rows.num_rows == 0 and lake.exists(bronze_table(table)):
        return BatchResult("", 0, 0, skipped=True)
    last = rows.slice(rows.num_rows - 1) if rows.num_rows else None
    upto = f"{last['updated_at'][0].as_py().isoformat()}/{last['id'][0].as_py()}" if last else "empty"
    batch_id = f"{after[0].isoformat()}/{after[1]}..{upto}"
    return write_batch(lake, bronze_table(table), Batch(batch_id, f"postgres:{table}", rows))
