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
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

COMMIT_RETRIES = 8


@dataclass(frozen=True)
class Commit:
    table: str
    version: int
    rows: int
    skipped: bool = False
    app_ids: tuple[str, ...] = ()  # the application transactions this commit recorded


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
        return None if not self.exists(table) else _transaction_version(self._table(table), app_id)

    def committed(self, table: str, app_ids: list[str]) -> set[str]:
        """Which of these application transactions the table's log already records."""
        if not app_ids:
            return set()
        is_committed = self.transaction_lookup(table)
        return {app_id for app_id in app_ids if is_committed(app_id)}

    def transaction_lookup(self, table: str) -> Callable[[str], bool]:
        """A check against one snapshot of the log, for many look-ups without reloading it."""
        if not self.exists(table):
            return lambda app_id: False
        snapshot = self._table(table)
        return lambda app_id: _transaction_version(snapshot, app_id) is not None

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
        """Append; with an app_id, at most once (a replay of the same id is skipped)."""
        if app_id is None:
            return self._write(table, data, mode="append", partition_by=partition_by)
        keyed = data.append_column("_app_id", pa.repeat(pa.scalar(app_id), data.num_rows))
        commit = self.append_batches(table, keyed, "_app_id", [app_id], partition_by=partition_by)
        return commit

    def append_batches(
        self,
        table: str,
        data: pa.Table,
        key_column: str,
        app_ids: list[str],
        *,
        partition_by: list[str] | None = None,
    ) -> Commit:
        """Append several batches in one commit, each recorded as its own application transaction.

        `data[key_column]` holds each row's app id; `app_ids` lists every batch, including those with
        no rows. delta-rs records application transactions but does not refuse a replayed one, so
        batches already in the log are left out here, checked again on every attempt: a concurrent
        writer that commits some of the same batches first makes this one skip exactly those, and a
        write that reported an error yet committed is never repeated. The key column is not stored
        when it is the app id itself (`_app_id`).
        """
        todo: list[str] = []
        rows = 0

        def commit() -> None:
            nonlocal todo, rows
            # Check and write against one snapshot: a batch another writer commits after it is a
            # conflict delta-rs reports, never a second copy (a fresh load for the write could already
            # include it, and delta-rs would append it again).
            snapshot = self._table(table) if self.exists(table) else None
            done = {a for a in app_ids if snapshot and _transaction_version(snapshot, a) is not None}
            todo = [app_id for app_id in app_ids if app_id not in done]
            if not todo:
                return
            pending = data if not done else data.filter(pc.is_in(data[key_column], pa.array(todo)))
            if "_app_id" in pending.column_names:
                pending = pending.drop_columns(["_app_id"])
            rows = pending.num_rows
            write_deltalake(
                snapshot if snapshot is not None else self.uri(table),
                pending,
                mode="append",
                partition_by=partition_by,
                schema_mode="merge",
                storage_options=self.storage_options or None,
                commit_properties=CommitProperties(
                    app_transactions=[Transaction(app_id=app_id, version=1) for app_id in todo]
                ),
            )

        _retry_on_conflict(commit)
        return Commit(table, self._table(table).version(), rows, skipped=not todo, app_ids=tuple(todo))

    def overwrite(self, table: str, data: pa.Table, *, partition_by: list[str] | None = None) -> Commit:
        return self._write(table, data, mode="overwrite", partition_by=partition_by)

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

    def _write(self, table: str, data: pa.Table, *, mode: str, partition_by: list[str] | None) -> Commit:
        def commit() -> None:
            write_deltalake(
                self.uri(table),
                data,
                mode=mode,
                partition_by=partition_by,
                schema_mode="merge" if mode == "append" else "overwrite",
                storage_options=self.storage_options or None,
            )

        _retry_on_conflict(commit)
        return Commit(table, self._table(table).version(), data.num_rows)


def _transaction_version(snapshot: DeltaTable, app_id: str) -> int | None:
    try:
        return snapshot.transaction_version(app_id)
    except (KeyError, ValueError):
        return None


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
