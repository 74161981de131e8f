"""The lake interface: every read and write of a Delta table goes through here.

Ingestion and transforms never touch storage directly, so the same code runs against a local folder or
S3. This is the delta-rs implementation; a delta-spark one implements the same methods for the Spark
engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

COMMIT_RETRIES = 8


@dataclass(frozen=True)
class Commit:
    table: str
    version: int
    rows: int
    skipped: bool = False


@dataclass
class DeltaRsLake:
    root: str
    storage_options: dict[str, str] = field(default_factory=dict)

    def uri(self, table: str) -> str:
        return f"{self.root}/{table}"

    def _table(self, table: str, version: int | None = None) -> DeltaTable:
        return DeltaTable(self.uri(table), version=version, storage_options=self.storage_options or None)

    def exists(self, table: str) -> bool:
        return DeltaTable.is_deltatable(self.uri(table), storage_options=self.storage_options or None)

    def version(self, table: str) -> int | None:
        return self._table(table).version() if self.exists(table) else None

    def read(self, table: str, version: int | None = None, columns: list[str] | None = None) -> pa.Table:
        # Not to_pyarrow_dataset(): scanning it aborts the interpreter at exit (deltalake 1.6).
        return self._table(table, version).to_pyarrow_table(columns=columns)

    def committed_version(self, table: str, app_id: str) -> int | None:
        """The version an application transaction recorded in this table's log, if any."""
        if not self.exists(table):
            return None
        try:
            return self._table(table).transaction_version(app_id)
        except (KeyError, ValueError):
            return None

    def history(self, table: str, limit: int | None = None) -> list[dict[str, Any]]:
        return self._table(table).history(limit) if self.exists(table) else []

    def append(
        self,
        table: str,
        data: pa.Table,
        *,
        app_id: str | None = None,
        partition_by: list[str] | None = None,
    ) -> Commit:
        """Append once: with an app_id, a second append of the same id is skipped.

        delta-rs records the app transaction but does not refuse a replay, so the recorded version is
        checked first; a failed commit is retried only through that same check.
        """
        return self._write(table, data, mode="append", app_id=app_id, partition_by=partition_by)

    def overwrite(self, table: str, data: pa.Table, *, partition_by: list[str] | None = None) -> Commit:
        return self._write(table, data, mode="overwrite", app_id=None, partition_by=partition_by)

    def merge(self, table: str, data: pa.Table, keys: list[str]) -> Commit:
        """Upsert by keys: matching rows are replaced, new rows inserted."""
        if not self.exists(table):
            return self.overwrite(table, data)
        predicate = " AND ".join(f"target.{k} = source.{k}" for k in keys)

        def commit() -> None:
            (
                self._table(table)
                .merge(data, predicate, source_alias="source", target_alias="target")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )

        _retry_on_conflict(commit)
        return Commit(table, self._table(table).version(), data.num_rows)

    def _write(
        self,
        table: str,
        data: pa.Table,
        *,
        mode: str,
        app_id: str | None,
        partition_by: list[str] | None,
    ) -> Commit:
        if app_id is not None and self.committed_version(table, app_id) is not None:
            return Commit(table, self._table(table).version(), 0, skipped=True)
        properties = (
            CommitProperties(app_transactions=[Transaction(app_id=app_id, version=1)]) if app_id else None
        )

        def commit() -> None:
            if app_id is not None and self.committed_version(table, app_id) is not None:
                return
            write_deltalake(
                self.uri(table),
                data,
                mode=mode,
                partition_by=partition_by,
                schema_mode="merge" if mode == "append" else "overwrite",
                storage_options=self.storage_options or None,
                commit_properties=properties,
            )

        _retry_on_conflict(commit)
        return Commit(table, self._table(table).version(), data.num_rows)


def _retry_on_conflict(commit: Callable[[], None]) -> None:
    # Concurrent writers lose the optimistic race now and then; the commit callables are idempotent.
    for attempt in range(COMMIT_RETRIES):
        try:
            commit()
            return
        except CommitFailedError:
            if attempt == COMMIT_RETRIES - 1:
                raise
            time.sleep(0.05 * 2**attempt)


__all__ = ["Commit", "DeltaRsLake", "TableNotFoundError"]
