"""Read-only access to the published DuckDB warehouse, for the dashboard pages.

Every query opens the last published file read-only, so a build that publishes a new file never waits
for a reader (DESIGN.md principle 5). Results are cached per published file: the cache key holds the
file's identity, so a new publication is shown on the next rerun without restarting Streamlit.
The cache is shared by every viewer of the app, which is right only because the marts hold no per-user
data; a page that adds per-user filtering must not rely on it to authorize anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from lakehouse.settings import load_settings

NOT_BUILT_MESSAGE = (
    "The warehouse has not been built yet. Run `make demo` "
    "(or materialize the graph in the Dagster UI with `make ui`)."
)

# Distinct queries times published versions kept; old versions fall out as new ones arrive.
_CACHE_ENTRIES = 256


class WarehouseNotBuilt(RuntimeError):
    """The warehouse file, or a table a page reads, does not exist yet; `detail` says which."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"{NOT_BUILT_MESSAGE} ({detail})")
        self.detail = detail


class WarehouseUnreadable(RuntimeError):
    """The warehouse file exists but DuckDB cannot open it (not a DuckDB file, or locked by a writer)."""


def warehouse_path() -> Path:
    # Read at call time so a changed LAKEHOUSE_WAREHOUSE_PATH applies on the next rerun.
    return load_settings().warehouse_file


def _identity(path: Path) -> tuple[str, int, int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise WarehouseNotBuilt(f"no warehouse file at {path}") from None
    # mtime_ns and size can both repeat when two small builds land within one clock tick; publishing
    # by rename gives the new file a new inode, which cannot.
    return str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino


def read(sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
    """Run one query on the published warehouse; values go in only as bound parameters (`?`)."""
    path, mtime_ns, size, inode = _identity(warehouse_path())
    return _read_published(sql, tuple(params), path, mtime_ns, size, inode)


@st.cache_data(max_entries=_CACHE_ENTRIES, show_spinner=False)
def _read_published(
    sql: str, params: tuple[object, ...], path: str, mtime_ns: int, size: int, inode: int
) -> pd.DataFrame:
    del mtime_ns, size, inode  # part of the cache key only: they name the published version
    connection = _connect(path)
    try:
        return connection.execute(sql, list(params)).df()
    except duckdb.CatalogException as error:
        raise WarehouseNotBuilt(_first_line(error)) from None
    finally:
        connection.close()


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(path, read_only=True)
    except duckdb.IOException as error:
        # The file can vanish between stat and open while a build swaps it in.
        if not Path(path).exists():
            raise WarehouseNotBuilt(f"no warehouse file at {path}") from None
        raise WarehouseUnreadable(_unreadable(path, error)) from None
    except duckdb.Error as error:
        raise WarehouseUnreadable(_unreadable(path, error)) from None


def _unreadable(path: str, error: duckdb.Error) -> str:
    return (
        f"The warehouse file {path} could not be opened: {_first_line(error)} "
        "If a build is writing to it, wait until it publishes and reload; otherwise rebuild with `make demo`."
    )


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
