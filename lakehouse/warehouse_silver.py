"""Silver into a PostgreSQL warehouse: each current silver Delta table copied into one schema.

dbt's sources on PostgreSQL are this schema (`LAKEHOUSE_SILVER_SCHEMA`); on DuckDB they read the Delta
tables in place and on Redshift an external schema does, so only PostgreSQL needs a copy. Each table is
replaced in one transaction (readers see the old rows or the new, never a mix) and streamed from the
Delta snapshot in record batches, so memory stays bounded by a batch, not a table. A bookkeeping table
records the Delta table id and version each copy holds: a table whose snapshot has not moved is left
as it is.

Timestamps with a zone become `timestamptz`; the staging models turn them into UTC `timestamp`s
(macro `lake_timestamp`), so the marts never depend on the session's time zone.

`python -m lakehouse.warehouse_silver [table ...]` copies into the warehouse the settings name.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from deltalake import DeltaTable, QueryBuilder
from psycopg import sql

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import Settings, SettingsError, load_settings

SILVER_PREFIX = "silver/"
# Which Delta snapshot each copy holds; written in the transaction that replaces the copy.
VERSIONS_TABLE = "_lake_versions"
_CSV = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


class SilverLoadError(RuntimeError):
    """Silver cannot be loaded as asked; the message says which table and what to do."""


@dataclass(frozen=True)
class LoadedTable:
    table: str  # the table's name in the warehouse schema (its lake name without `silver/`)
    version: int  # the Delta version the copy holds
    rows: int
    copied: bool  # False when the copy already held this version and was left as it is


def warehouse_conninfo(settings: Settings) -> str:
    """The libpq connection string of the PostgreSQL warehouse the settings name."""
    if settings.warehouse_target != "postgres":
        raise SilverLoadError(
            f"LAKEHOUSE_WAREHOUSE_TARGET is {settings.warehouse_target!r}: silver is copied only into a "
            "PostgreSQL warehouse (DuckDB reads the lake in place, Redshift through an external schema)."
        )
    password = settings.warehouse_password.get_secret_value() if settings.warehouse_password else None
    return psycopg.conninfo.make_conninfo(
        host=settings.warehouse_host,
        port=settings.warehouse_port or 5432,
        user=settings.warehouse_user,
        password=password,
        dbname=settings.warehouse_db,
    )


def postgres_type(field: pa.Field) -> str:
    """The PostgreSQL column type that holds the Arrow field's values exactly."""
    kind = field.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "text"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_int8(kind) or pa.types.is_int16(kind) or pa.types.is_uint8(kind):
        return "smallint"
    if pa.types.is_int32(kind) or pa.types.is_uint16(kind):
        return "integer"
    if pa.types.is_int64(kind) or pa.types.is_uint32(kind):
        return "bigint"
    if pa.types.is_uint64(kind):
        return "numeric(20, 0)"
    if pa.types.is_float16(kind) or pa.types.is_float32(kind):
        return "real"
    if pa.types.is_float64(kind):
        return "double precision"
    if pa.types.is_decimal(kind):
        return f"numeric({kind.precision}, {kind.scale})"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamptz" if kind.tz else "timestamp"
    if pa.types.is_time(kind):
        return "time"
    raise SilverLoadError(
        f"column {field.name!r} has Arrow type {kind}, which this loader does not copy into PostgreSQL: "
        "give the silver table a scalar type for it (string, number, boolean, date or timestamp)."
    )


def load_silver(
    conninfo: str,
    lake: DeltaRsLake,
    tables: Iterable[str] | None = None,
    schema: str = "silver",
    force: bool = False,
) -> list[LoadedTable]:
    """Copy the current snapshot of each silver table (`silver/<name>` or `<name>`; by default every
    table of the silver registry) into `schema`.

    A table is recreated when its columns changed (views on it, such as dbt's staging views, are
    dropped with it and come back at the next dbt build); otherwise its rows are replaced. With
    `force`, tables are copied even when the warehouse already holds their current version.
    """
    if tables is None:
        from transforms.registry import SILVER_TABLES

        tables = sorted(table.name for table in SILVER_TABLES)
    names = [name.removeprefix(SILVER_PREFIX) for name in tables]
    missing = [name for name in names if not lake.exists(SILVER_PREFIX + name)]
    if missing:
        raise SilverLoadError(
            f"silver table(s) {', '.join(missing)} do not exist under {lake.root}/{SILVER_PREFIX}: build "
            "silver first (the Dagster job build_silver or build_everything), or check LAKEHOUSE_LAKE_ROOT."
        )
    with psycopg.connect(conninfo) as conn:
        _prepare_schema(conn, schema)
        return [_load_table(conn, lake, name, schema, force) for name in names]


def _prepare_schema(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    conn.execute(
        sql.SQL(
            "create table if not exists {} (table_name text primary key, delta_table_id text not null, "
            "delta_version bigint not null, row_count bigint not null, loaded_at timestamptz not null)"
        ).format(sql.Identifier(schema, VERSIONS_TABLE))
    )
    conn.commit()


def _load_table(
    conn: psycopg.Connection, lake: DeltaRsLake, name: str, schema: str, force: bool
) -> LoadedTable:
    # One snapshot for everything below: the version recorded is the version copied.
    snapshot = DeltaTable(lake.uri(SILVER_PREFIX + name), storage_options=lake.storage_options or None)
    version = snapshot.version()
    table_id = snapshot.metadata().id
    arrow_schema = pa.schema(snapshot.schema().to_arrow())
    columns = [(field.name, postgres_type(field)) for field in arrow_schema]
    target = sql.Identifier(schema, name)
    with conn.transaction():
        held = conn.execute(
            sql.SQL("select delta_table_id, delta_version, row_count from {} where table_name = %s").format(
                sql.Identifier(schema, VERSIONS_TABLE)
            ),
            (name,),
        ).fetchone()
        existing = _columns(conn, schema, name)
        if not force and held is not None and held[:2] == (table_id, version) and existing == columns:
            return LoadedTable(name, version, held[2], copied=False)
        if existing == columns:
            conn.execute(sql.SQL("truncate table {}").format(target))
        else:
            conn.execute(sql.SQL("drop table if exists {} cascade").format(target))
            conn.execute(
                sql.SQL("create table {} ({})").format(
                    target,
                    sql.SQL(", ").join(
                        sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind))
                        for column, kind in columns
                    ),
                )
            )
        rows = _copy_rows(conn, snapshot, target, arrow_schema)
        conn.execute(
            sql.SQL(
                "insert into {} values (%s, %s, %s, %s, now()) on conflict (table_name) do update set "
                "delta_table_id = excluded.delta_table_id, delta_version = excluded.delta_version, "
                "row_count = excluded.row_count, loaded_at = excluded.loaded_at"
            ).format(sql.Identifier(schema, VERSIONS_TABLE)),
            (name, table_id, version, rows),
        )
    return LoadedTable(name, version, rows, copied=True)


def _columns(conn: psycopg.Connection, schema: str, name: str) -> list[tuple[str, str]]:
    """The table's columns and their types, spelled as `postgres_type` spells them; [] when absent."""
    found = conn.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute "
        "where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped order by attnum",
        (sql.Identifier(schema, name).as_string(conn),),
    ).fetchall()
    spelled = {
        "timestamp with time zone": "timestamptz",
        "timestamp without time zone": "timestamp",
        "time without time zone": "time",
    }
    return [(column, spelled.get(kind, kind).replace(",", ", ")) for column, kind in found]


def _copy_rows(
    conn: psycopg.Connection, snapshot: DeltaTable, target: sql.Composed, schema: pa.Schema
) -> int:
    # CSV from Arrow: doubles in their shortest exact form, a null unquoted and an empty string quoted.
    columns = schema.names
    query = (
        "select " + ", ".join('"' + column.replace('"', '""') + '"' for column in columns) + " from snapshot"
    )
    batches = pa.RecordBatchReader.from_stream(QueryBuilder().register("snapshot", snapshot).execute(query))
    statement = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        target, sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    rows = 0
    with conn.cursor().copy(statement) as copy:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            buffer = io.BytesIO()
            # the query engine hands out string views, which Arrow's CSV writer does not take
            pa_csv.write_csv(batch.cast(schema), buffer, _CSV)
            copy.write(buffer.getbuffer())
            rows += batch.num_rows
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lakehouse.warehouse_silver",
        description="Copy silver into the PostgreSQL warehouse the LAKEHOUSE_WAREHOUSE_* settings name.",
    )
    parser.add_argument("tables", nargs="*", help="silver tables to copy (default: all of them)")
    parser.add_argument("--force", action="store_true", help="copy tables whose version is already there")
    arguments = parser.parse_args(argv)
    try:
        settings = load_settings()
        loaded = load_silver(
            warehouse_conninfo(settings),
            DeltaRsLake(settings.lake_uri, settings.storage_options()),
            arguments.tables or None,
            schema=settings.silver_schema,
            force=arguments.force,
        )
    except (SettingsError, SilverLoadError) as error:
        print(error, file=sys.stderr)
        return 2
    for table in loaded:
        state = "copied" if table.copied else "unchanged"
        print(f"{settings.silver_schema}.{table.table}: version {table.version}, {table.rows} rows, {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
