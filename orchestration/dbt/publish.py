"""Publishing the warehouse atomically: copy the build, stamp it, rename it over the published file.

A reader that opened the old file keeps reading it; a new reader gets the new one; nobody ever sees a
half-built warehouse, and no reader can block the build.

The stamp travels with the numbers (DESIGN.md principle 7): meta.build_info says when and from which lake
versions the warehouse was built; meta.check_results holds the latest verdict of every check behind the
marts and meta.mart_status each mart's as-of day and the verdict of the checks it is built on
(orchestration/dbt/check_status.py).
"""

from __future__ import annotations

import calendar
import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from lakehouse.metrics_catalog import SEMANTIC_MANIFEST
from orchestration.dbt.check_status import CheckStatus, check_result_rows, mart_status

META_DDL = """
create schema if not exists meta;
create or replace table meta.build_info (
    built_at timestamp not null,
    as_of_date date,
    lake_versions varchar not null,
    dbt_invocation_id varchar
);
create or replace table meta.check_results (
    asset_key varchar not null,
    check_name varchar not null,
    status varchar not null,
    severity varchar not null,
    evaluated_at timestamp,
    description varchar not null,
    primary key (asset_key, check_name)
);
create or replace table meta.mart_status (
    relation varchar primary key,
    as_of_date date,
    built_at timestamp not null,
    checks_passed integer not null,
    checks_warned integer not null,
    checks_failed integer not null,
    checks_not_run integer not null,
    failing varchar not null,
    status varchar not null
);
"""

# Periods a semantic model's time dimension can have, finest first; finer than a day counts as a day.
GRANULARITIES = ("day", "week", "month", "quarter", "year")
_COLUMN = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class TimeColumn:
    """The column that dates a mart's rows, and the period one value of it stands for."""

    column: str
    granularity: str
    semantic_model: str
    # Given as the dimension's expr, which may be a column or SQL such as current_date.
    from_expr: bool = False


def time_columns(semantic_manifest: Mapping) -> dict[str, TimeColumn]:
    """Each mart's time column: the agg_time_dimension of its semantic models, the finest when a mart has
    several. A dimension whose expr is not a plain name (a computation) dates nothing."""
    found: dict[str, TimeColumn] = {}
    for model in semantic_manifest["semantic_models"]:
        relation = f"{model['node_relation']['schema_name']}.{model['node_relation']['alias']}"
        name = (model.get("defaults") or {}).get("agg_time_dimension")
        dimension = next((d for d in model["dimensions"] if d["name"] == name), None)
        if dimension is None:
            continue
        expr = (dimension.get("expr") or "").strip()
        column = expr or dimension["name"]
        if not _COLUMN.fullmatch(column):
            continue
        granularity = (dimension.get("type_params") or {}).get("time_granularity") or "day"
        granularity = granularity if granularity in GRANULARITIES else "day"
        candidate = TimeColumn(column, granularity, model["name"], from_expr=bool(expr))
        known = found.get(relation)
        if known is None or GRANULARITIES.index(granularity) < GRANULARITIES.index(known.granularity):
            found[relation] = candidate
    return found


def period_end(day: date, granularity: str) -> date:
    """The last day of the period (of the given granularity) that holds `day`."""
    if granularity == "day":
        return day
    if granularity == "week":  # ISO weeks, Monday first, as date_trunc('week', ...) in DuckDB
        return day + timedelta(days=6 - day.weekday())
    last_month = {"month": day.month, "quarter": 3 * ((day.month - 1) // 3) + 3, "year": 12}[granularity]
    return date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])


def mart_as_of(latest: date | datetime | None, granularity: str, build_as_of: date | None) -> date | None:
    """The latest day of data in a mart: the end of its latest period, but no later than the build's own
    as-of day (this month's row holds the month so far, not the whole month)."""
    if latest is None:
        return None
    day = latest.date() if isinstance(latest, datetime) else latest
    end = period_end(day, granularity)
    return end if build_as_of is None or granularity == "day" else min(end, build_as_of)


def publish(
    build: Path,
    published: Path,
    lake_versions: dict[str, int | None],
    dbt_invocation_id: str | None,
    checks: CheckStatus | None = None,
    semantic_manifest: Path = SEMANTIC_MANIFEST,
) -> dict[str, object]:
    """Publish the build with its stamp. `checks` None (a publication outside Dagster, which knows no
    check results) leaves every mart not_checked."""
    if not build.exists():
        raise FileNotFoundError(f"no warehouse build at {build}: run the dbt models first")
    checks = CheckStatus() if checks is None else checks
    columns = time_columns(json.loads(semantic_manifest.read_text()))
    published.parent.mkdir(parents=True, exist_ok=True)
    staged = published.with_name(f".{published.name}.{uuid.uuid4().hex}")
    # The build connection is closed; checkpointing through a fresh one folds any WAL into the file.
    with duckdb.connect(str(build)) as con:
        con.execute("checkpoint")
    shutil.copyfile(build, staged)
    built_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        with duckdb.connect(str(staged)) as con:
            con.execute(META_DDL)
            as_of = con.execute("select max(activity_date) from learning.fct_active_users").fetchone()[0]
            con.execute(
                "insert into meta.build_info values (?, ?, ?, ?)",
                [built_at, as_of, json.dumps(lake_versions, sort_keys=True), dbt_invocation_id],
            )
            tables = dict(
                con.execute(
                    "select schema_name || '.' || table_name, estimated_size from duckdb_tables() "
                    "where schema_name in ('finance', 'learning', 'marketing') order by 1"
                ).fetchall()
            )
            if checks.results:
                con.executemany(
                    "insert into meta.check_results values (?, ?, ?, ?, ?, ?)",
                    check_result_rows(checks.results),
                )
            statuses = [
                mart_status(relation, _as_of(con, relation, columns.get(relation), as_of), built_at, checks)
                for relation in tables
            ]
            if statuses:
                con.executemany(
                    "insert into meta.mart_status values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [astuple(status) for status in statuses],
                )
            con.execute("checkpoint")
        os.replace(staged, published)
    finally:
        staged.unlink(missing_ok=True)
    return {
        "built_at": built_at.isoformat(),
        "as_of_date": str(as_of),
        "tables": tables,
        "mart_status": {status.relation: status.status for status in statuses},
        "failing": sorted({name for status in statuses for name in status.failing.split(",") if name}),
    }


def _as_of(
    con: duckdb.DuckDBPyConnection, relation: str, time: TimeColumn | None, build_as_of: date | None
) -> date | None:
    if time is None:
        return build_as_of
    schema, table = relation.split(".")
    present = con.execute(
        "select count(*) from duckdb_columns() where schema_name = ? and table_name = ? and column_name = ?",
        [schema, table, time.column],
    ).fetchone()[0]
    if not present and time.from_expr:  # SQL such as current_date: the mart is as recent as the build
        return build_as_of
    if not present:
        raise ValueError(
            f"semantic model {time.semantic_model} dates {relation} by its column {time.column}, which "
            f"{relation} does not have: fix the agg_time_dimension in dbt_project/models/semantic/"
        )
    # Both names come from the build's catalogue and the dbt project, checked above; none from a user.
    latest = con.execute(f'select max("{time.column}") from "{schema}"."{table}"').fetchone()[0]
    return mart_as_of(latest, time.granularity, build_as_of)
