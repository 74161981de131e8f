"""Reading the published warehouse in the end-to-end tests."""

from __future__ import annotations

import duckdb


def marts(path) -> dict[str, list[tuple]]:
    """Every mart's rows, in order."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            f"{schema}.{table}"
            for schema, table in con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where schema_name in ('finance', 'learning', 'marketing') order by all"
            ).fetchall()
        ]
        return {name: con.execute(f"select * from {name} order by all").fetchall() for name in names}


def query(settings, sql: str) -> list[tuple]:
    """Rows of a query on the published warehouse."""
    with duckdb.connect(str(settings.warehouse_file), read_only=True) as con:
        return con.execute(sql).fetchall()
