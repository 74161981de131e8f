"""Publishing the warehouse atomically: copy the build, stamp it, rename it over the published file.

A reader that opened the old file keeps reading it; a new reader gets the new one; nobody ever sees a
half-built warehouse, and no reader can block the build.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

BUILD_INFO_DDL = """
create schema if not exists meta;
create or replace table meta.build_info (
    built_at timestamp not null,
    as_of_date date,
    lake_versions varchar not null,
    dbt_invocation_id varchar
);
"""


def publish(
    build: Path, published: Path, lake_versions: dict[str, int | None], dbt_invocation_id: str | None
) -> dict[str, object]:
    if not build.exists():
        raise FileNotFoundError(f"no warehouse build at {build}: run the dbt models first")
    published.parent.mkdir(parents=True, exist_ok=True)
    staged = published.with_name(f".{published.name}.{uuid.uuid4().hex}")
    # The build connection is closed; checkpointing through a fresh one folds any WAL into the file.
    with duckdb.connect(str(build)) as con:
        con.execute("checkpoint")
    shutil.copyfile(build, staged)
    built_at = datetime.now(UTC).replace(tzinfo=None)
    with duckdb.connect(str(staged)) as con:
        con.execute(BUILD_INFO_DDL)
        as_of = con.execute("select max(activity_date) from learning.fct_active_users").fetchone()[0]
        con.execute(
            "insert into meta.build_info values (?, ?, ?, ?)",
            [built_at, as_of, json.dumps(lake_versions, sort_keys=True), dbt_invocation_id],
        )
        tables = con.execute(
            "select schema_name || '.' || table_name, estimated_size from duckdb_tables() "
            "where schema_name in ('learning', 'marketing', 'finance') order by 1"
        ).fetchall()
        con.execute("checkpoint")
    os.replace(staged, published)
    return {"built_at": built_at.isoformat(), "as_of_date": str(as_of), "tables": dict(tables)}
