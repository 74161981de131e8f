"""Operational rows as versions: each change of a row is a version stamped with its `updated_at`.

The PostgreSQL state at the window's end is, per id, the latest version at or before the end. Versions
after the end have not happened yet and are dropped, so a longer run only adds and updates rows.
Rows whose future is decided when they are created (a document deleted three weeks later) put all
their versions at once; rows that change as the world moves (users, subscriptions, invoices,
enrollments) are `touch`ed and put once at the end of each day they changed.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Protocol

from ingestion.operational_tables import BY_NAME
from ingestion.simulation.clock import sql_ts


class Versioned(Protocol):
    TABLE: str

    def row(self) -> dict: ...


class RowSink(Protocol):
    def version(self, table: str, row: dict, seq: int) -> None: ...


class RowStore:
    def __init__(self, end_ms: int, sink: RowSink) -> None:
        self.end_ms = end_ms
        self.sink = sink
        self.seq = 0
        self.versions: Counter[str] = Counter()
        self._dirty: dict[int, Versioned] = {}

    def put(self, table: str, row: dict) -> None:
        if row["updated_at"] > self.end_ms:
            return
        self.seq += 1
        self.versions[table] += 1
        self.sink.version(table, row, self.seq)

    def touch(self, obj: Versioned) -> None:
        self._dirty[id(obj)] = obj

    def flush(self) -> None:
        """Put one version of every row touched since the last flush (called at each day's end)."""
        for obj in self._dirty.values():
            self.put(obj.TABLE, obj.row())
        self._dirty.clear()


class NoRows:
    """Counts versions only (no PostgreSQL asked for)."""

    def version(self, table: str, row: dict, seq: int) -> None:
        pass


class MemoryRows:
    """The latest version of each row, in memory: for small worlds and tests."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, tuple[int, int, dict]]] = {}

    def version(self, table: str, row: dict, seq: int) -> None:
        rows = self.tables.setdefault(table, {})
        seen = rows.get(row["id"])
        if seen is None or (row["updated_at"], seq) >= (seen[0], seen[1]):
            rows[row["id"]] = (row["updated_at"], seq, row)

    def rows(self, table: str) -> list[dict]:
        """The table's rows as of the window's end, in id order, timestamps still in milliseconds."""
        return [entry[2] for _, entry in sorted(self.tables.get(table, {}).items())]


class SpoolRows:
    """Versions appended to one CSV file per table on disk (bounded memory), for COPY into PostgreSQL."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder or tempfile.mkdtemp(prefix="simulator-rows-"))
        self._files: dict[str, tuple[io.TextIOWrapper, object]] = {}

    def version(self, table: str, row: dict, seq: int) -> None:
        entry = self._files.get(table)
        if entry is None:
            handle = (self.folder / f"{table}.csv").open("w", newline="")
            entry = self._files[table] = (handle, csv.writer(handle, lineterminator="\n"))
        entry[1].writerow((seq, *copy_values(table, row)))  # type: ignore[attr-defined]

    def close(self) -> dict[str, Path]:
        for handle, _ in self._files.values():
            handle.close()
        return {table: self.folder / f"{table}.csv" for table in self._files}

    def cleanup(self) -> None:
        self.close()
        for path in self.folder.glob("*.csv"):
            path.unlink()
        os.rmdir(self.folder)


_TIMESTAMP_COLUMNS = {
    name: frozenset(c.name for c in table.columns if c.sql_type == "timestamptz")
    for name, table in BY_NAME.items()
}
NULL = "\\N"


def copy_values(table: str, row: dict) -> list[object]:
    """The row's values in the table's column order as COPY ... (format csv, null '\\N') reads them."""
    stamps = _TIMESTAMP_COLUMNS[table]
    values: list[object] = []
    for name in BY_NAME[table].column_names:
        value = row[name]
        if value is None:
            values.append(NULL)
        elif name in stamps:
            values.append(sql_ts(value))
        elif isinstance(value, bool):
            values.append("t" if value else "f")
        else:
            values.append(value)
    return values
