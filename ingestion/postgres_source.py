"""Operational PostgreSQL tables into bronze: incremental by (updated_at, id), deletes made visible.

Bronze keeps every version of every row (append-only). The watermark is not kept anywhere else: it is
the largest (updated_at, id) already in the bronze table, so it is committed with the rows it
describes. A soft delete is a version with `deleted_at` set. A hard delete cannot be seen by a
watermark, so a full resync compares every source row with the latest bronze version and appends a
tombstone (`_deleted` = true, the last version's values) for each row that is gone.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

from ingestion.bronze_writer import Batch, BatchResult, write_batch
from ingestion.operational_tables import OPERATIONAL_TABLES
from lakehouse.lake import DeltaRsLake

TABLES = OPERATIONAL_TABLES
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DELETED = "_deleted"

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
}
NUMERIC = 1700


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


def extract(conn: psycopg.Connection, table: str, after: tuple[datetime, str] | None) -> pa.Table:
    """Rows changed after the watermark, in watermark order (all rows when `after` is None)."""
    query = sql.SQL("select * from {} where (updated_at, id) > (%s, %s) order by updated_at, id")
    if after is None:
        query, params = sql.SQL("select * from {} order by updated_at, id"), ()
    else:
        params = after
    with conn.cursor() as cur:
        try:
            cur.execute(query.format(sql.Identifier(table)), params)
        except psycopg.errors.UndefinedTable:
            raise RuntimeError(
                f"the operational database has no table {table!r}: docs/data_contracts.md lists the tables "
                "the platform extracts; create it, or point LAKEHOUSE_SOURCE_POSTGRES_DSN at the right one"
            ) from None
        schema = pa.schema([(col.name, _arrow_type(col)) for col in cur.description or []])
        rows = cur.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    data = pa.Table.from_arrays(
        [
            pa.array([_coerce(v, f.type) for v in column], type=f.type)
            for column, f in zip(columns, schema, strict=True)
        ],
        schema=schema,
    )
    return data.append_column(DELETED, pa.repeat(pa.scalar(False), data.num_rows))


def _arrow_type(column: psycopg.Column) -> pa.DataType:
    if column.type_code == NUMERIC:
        # exact where the column says how exact; an unconstrained numeric keeps its text
        if column.precision:
            return pa.decimal128(column.precision, column.scale or 0)
        return pa.string()
    return _ARROW_TYPES.get(column.type_code, pa.string())


def _coerce(value: object, kind: pa.DataType) -> object:
    if value is not None and pa.types.is_string(kind) and not isinstance(value, str):
        return str(value)
    return value


def _changes_since_bronze(lake: DeltaRsLake, table: str, source: pa.Table) -> pa.Table:
    """Source rows that differ from their latest bronze version, and tombstones for rows that are gone."""
    target = bronze_table(table)
    if not lake.exists(target):
        return source
    bronze = lake.read(target)
    columns = [c for c in source.column_names if c != DELETED]
    common = [c for c in columns if c in bronze.column_names]
    con = duckdb.connect()
    con.register("source", source)
    con.register("bronze", bronze)
    latest = f"""
        select * from (
            select *, row_number() over (partition by id order by updated_at desc, _ingested_at desc) as _rank
            from bronze
        ) where _rank = 1 and not coalesce({DELETED}, false)
    """
    same = " and ".join(f"s.{c} is not distinct from b.{c}" for c in common)
    changed = con.execute(
        f"select s.* from source s left join ({latest}) b on s.id = b.id where b.id is null or not ({same})"
    ).to_arrow_table()
    gone = con.execute(
        f"select {', '.join(f'b.{c}' for c in common)}, true as {DELETED} "
        f"from ({latest}) b anti join source s on s.id = b.id"
    ).to_arrow_table()
    con.close()
    return pa.concat_tables(
        [changed, gone.cast(changed.select(common + [DELETED]).schema)], promote_options="permissive"
    )


def ingest_table(lake: DeltaRsLake, dsn: str, table: str, *, full_resync: bool = False) -> BatchResult:
    """Append what changed in a table since the last extraction; a replayed window changes nothing."""
    after = None if full_resync else watermark(lake, table)
    with psycopg.connect(dsn) as conn:
        rows = extract(conn, table, after)
    if full_resync:
        rows = _changes_since_bronze(lake, table, rows)
    if rows.num_rows == 0 and lake.exists(bronze_table(table)):
        return BatchResult("", 0, 0, skipped=True)
    if full_resync:
        content = hashlib.sha256(str(rows.to_pylist()).encode()).hexdigest()[:24]
        batch_id = f"resync/{content}"
    else:
        last = rows.slice(rows.num_rows - 1) if rows.num_rows else None
        upto = f"{last['updated_at'][0].as_py().isoformat()}/{last['id'][0].as_py()}" if last else "empty"
        batch_id = f"{after[0].isoformat()}/{after[1]}..{upto}"
    return write_batch(lake, bronze_table(table), Batch(batch_id, f"postgres:{table}", rows))
