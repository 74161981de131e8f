"""Loads the simulated operational rows into PostgreSQL, idempotently.

Every version of every row is COPYed into a temporary table; per id the latest version (by updated_at,
then the order the simulator wrote them) is upserted, and a row is only written when something in it
changed. Loading the same window again changes nothing; a longer window inserts new rows and updates
the ones that changed since (their updated_at moves), soft deletes included.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import psycopg
from psycopg import sql

from ingestion.operational_tables import BY_NAME, TABLES
from ingestion.simulation.config import SimConfig
from ingestion.simulation.rows import MemoryRows, copy_values

WORLD_TABLE = "_simulator_world"


class OtherWorldError(RuntimeError):
    """The database holds rows of another simulated world (other seed, scale, start or dirt)."""


def create_tables(conn: psycopg.Connection) -> None:
    for table in TABLES:
        conn.execute(table.ddl())
        for statement in table.add_missing_columns():
            conn.execute(statement)


def _claim(conn: psycopg.Connection, config: SimConfig, replace: bool) -> None:
    """Record which world the database holds; refuse to mix two worlds unless asked to replace."""
    conn.execute(
        f"create table if not exists {WORLD_TABLE} (id int primary key, seed bigint, scale double precision, "
        "start date, dirt text, days int)"
    )
    identity = (config.seed, config.scale, config.start, repr(config.dirt))
    held = conn.execute(f"select seed, scale, start, dirt, days from {WORLD_TABLE} where id = 1").fetchone()
    users = conn.execute("select count(*) from users").fetchone()[0]  # type: ignore[index]
    other = (held is not None and tuple(held[:4]) != identity) or (held is None and users > 0)
    if other and not replace:
        raise OtherWorldError(
            f"the operational database holds another world ({held or 'rows of an older simulator'}); "
            "load into an empty database, or pass replace=True (--replace) to drop its rows first"
        )
    if other:
        names = ", ".join(table.name for table in TABLES)
        conn.execute(f"truncate {names} cascade")
    days = config.days if other or held is None else max(held[4], config.days)
    conn.execute(
        f"insert into {WORLD_TABLE} values (1, %s, %s, %s, %s, %s) on conflict (id) do update set "
        "seed = excluded.seed, scale = excluded.scale, start = excluded.start, dirt = excluded.dirt, "
        "days = excluded.days",
        (*identity, days),
    )


def claim(dsn: str, config: SimConfig, replace: bool = False) -> None:
    """Create the tables and check (or, with replace, take over) the database before simulating."""
    with psycopg.connect(dsn) as conn:
        create_tables(conn)
        _claim(conn, config, replace)


def load(
    dsn: str,
    config: SimConfig,
    rows: MemoryRows | dict[str, Path],
    replace: bool = False,
) -> dict[str, dict[str, int]]:
    """Upsert the rows as of the window's end; returns per table the rows inserted and updated."""
    result: dict[str, dict[str, int]] = {}
    with psycopg.connect(dsn) as conn:
        create_tables(conn)
        _claim(conn, config, replace)
        for table in TABLES:
            result[table.name] = _load_table(conn, table.name, rows)
    return result


def _load_table(conn: psycopg.Connection, name: str, rows: MemoryRows | dict[str, Path]) -> dict[str, int]:
    table = BY_NAME[name]
    staging = f"_load_{name}"
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    types = ", ".join(f'"{c.name}" {c.sql_type}' for c in table.columns)
    conn.execute(f"create temporary table if not exists {staging} (_seq bigint, {types}) on commit drop")
    conn.execute(f"truncate {staging}")
    with conn.cursor() as cur:
        copy = sql.SQL("copy {} (_seq, {}) from stdin (format csv, null '\\N')").format(
            sql.Identifier(staging), columns
        )
        with cur.copy(copy) as pipe:
            if isinstance(rows, MemoryRows):
                buffer = io.StringIO()
                writer = csv.writer(buffer, lineterminator="\n")
                for seq, row in enumerate(rows.rows(name)):
                    writer.writerow((seq, *copy_values(name, row)))
                pipe.write(buffer.getvalue().encode())
            elif name in rows:
                with rows[name].open("rb") as spool:
                    while chunk := spool.read(1 << 20):
                        pipe.write(chunk)
    names = [c for c in table.column_names if c != "id"]
    update = sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in names)
    current = sql.SQL(", ").join(
        sql.SQL("{}.{}").format(sql.Identifier(name), sql.Identifier(c)) for c in names
    )
    incoming = sql.SQL(", ").join(sql.SQL("excluded.{}").format(sql.Identifier(c)) for c in names)
    statement = sql.SQL(
        "insert into {table} ({columns}) "
        "select distinct on (id) {columns} from {staging} order by id, updated_at desc, _seq desc "
        "on conflict (id) do update set {update} where ({current}) is distinct from ({incoming}) "
        "returning (xmax = 0)"
    ).format(
        table=sql.Identifier(name),
        columns=columns,
        staging=sql.Identifier(staging),
        update=update,
        current=current,
        incoming=incoming,
    )
    with conn.cursor() as cur:
        cur.execute(statement)
        flags = [r[0] for r in cur.fetchall()]
    return {"inserted": sum(flags), "updated": len(flags) - sum(flags)}
