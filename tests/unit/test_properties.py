from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from transforms.engine import _SparkCompiler
from transforms.silver import properties as props

# One row per way a tracker may send the value of "v" (or not send it).
PAYLOADS = [
    '{"v": 812}',
    '{"v": "812"}',
    '{"v": 812.0}',
    '{"v": 0.85}',
    '{"v": "0.85"}',
    '{"v": true}',
    '{"v": "FALSE"}',
    '{"v": "abc"}',
    '{"v": null}',
    "{}",
    '{"v": " 42 "}',
    '{"v": -3}',
]


def _values(read) -> list:
    table = ibis.memtable(pa.table({"p": pa.array(PAYLOADS, pa.string())}))
    expr = table.select(v=read(table.p, "v"))
    return ibis.duckdb.connect().to_pyarrow(expr).column("v").to_pylist()


def test_integers_from_numbers_and_numeric_strings() -> None:
    assert _values(props.integer) == [812, 812, 812, None, None, None, None, None, None, None, 42, -3]


def test_floats_from_numbers_and_numeric_strings() -> None:
    assert _values(props.floating) == [
        812.0,
        812.0,
        812.0,
        0.85,
        0.85,
        None,
        None,
        None,
        None,
        None,
        42.0,
        -3.0,
    ]


def test_booleans_from_json_booleans_and_strings() -> None:
    assert _values(props.boolean) == [None, None, None, None, None, True, False] + [None] * 5


def test_strings_only_from_json_strings() -> None:
    assert _values(props.string) == [None, "812", None, None, "0.85", None, "FALSE", "abc"] + [
        None,
        None,
        " 42 ",
        None,
    ]


def test_a_string_keeps_its_escaped_quotes() -> None:
    table = ibis.memtable(pa.table({"p": ['{"v": "say \\"hi\\""}']}))
    rows = ibis.duckdb.connect().to_pyarrow(table.select(v=props.string(table.p, "v"))).to_pylist()
    assert rows == [{"v": 'say "hi"'}]


@pytest.mark.parametrize("read", [props.integer, props.floating, props.boolean, props.string])
def test_compiles_for_spark_without_udfs_or_backslashes(read) -> None:
    table = ibis.table({"p": "string"}, name="events")
    compiler = _SparkCompiler()
    sql = compiler.to_sqlglot(table.select(v=read(table.p, "v"))).sql(dialect=compiler.dialect)
    assert "unwrap_json" not in sql.lower()
    # Spark SQL unescapes backslashes in string literals: a regex written with one would change meaning.
    assert "\\" not in sql
