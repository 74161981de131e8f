"""The lake interface: every read and write of a Delta table goes through here.

Ingestion and transforms never touch storage directly, so the same code runs against a local folder or
S3. This is the delta-rs implementation; a delta-spark one implements the same methods for the Spark
engine.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from lakehouse.storage import filesystem_for

COMMIT_RETRIES = 8
# Reads of added files kept per lake: one run asks for the same new rows once per table they drive.
FILE_READS_KEPT_BYTES = 256 * 2**20
# Commit metadata key under which a derived table records the input versions it was built from.
PROCESSED_KEY = "lakehouse.inputs"


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
    # Loading a table replays its log (about 20 ms for a few hundred files, more as commits pile up);
    # bringing a loaded one up to date reads only the commits since. Kept per table, with the identity
    # of its first commit, so that a table deleted and created again is loaded afresh.
    _snapshots: dict[str, tuple[tuple, DeltaTable]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _file_reads: OrderedDict[tuple, pa.Table] = field(
        default_factory=OrderedDict, init=False, repr=False, compare=False
    )

    def uri(self, table: str) -> str:
        return f"{self.root}/{table}"

    def _table(self, table: str, version: int | None = None) -> DeltaTable:
        return DeltaTable(self.uri(table), version=version, storage_options=self.storage_options or None)

    def _current(self, table: str) -> DeltaTable:
        """The table's latest snapshot, for reading; loaded once, then updated with the new commits."""
        origin = self._origin(table)
        kept = self._snapshots.get(table)
        if kept is not None and kept[0] == origin:
            kept[1].update_incremental()
            return kept[1]
        snapshot = self._table(table)
        self._snapshots[table] = (origin, snapshot)
        return snapshot

    def _origin(self, table: str) -> tuple:
        filesystem, base = filesystem_for(self.uri(table), self.storage_options)
        info = filesystem.get_file_info(f"{base}/_delta_log/{0:020d}.json")
        return info.type, info.mtime_ns, info.size

    def exists(self, table: str) -> bool:
        return DeltaTable.is_deltatable(self.uri(table), storage_options=self.storage_options or None)

    def version(self, table: str) -> int | None:
        return self._current(table).version() if self.exists(table) else None

    def row_count(self, table: str) -> int:
        """Rows in the current snapshot, from the log's file statistics (no data is read)."""
        actions = pa.table(self._current(table).get_add_actions(flatten=True))
        return int(pc.sum(actions["num_records"]).as_py() or 0)

    def schema(self, table: str) -> pa.Schema:
        return pa.schema(self._current(table).schema().to_arrow())

    def partition_columns(self, table: str) -> list[str]:
        return list(self._current(table).metadata().partition_columns)

    def read(
        self,
        table: str,
        version: int | None = None,
        columns: list[str] | None = None,
        partitions: tuple[str, list[Any]] | None = None,
    ) -> pa.Table:
        """The table's rows; with `partitions` (a partition column and values), only theirs."""
        # deltalake 1.6 reads both ways through a pyarrow dataset; a short script that only scans one may
        # abort at its exit ("terminate called without an active exception"), whichever call it used.
        snapshot = self._current(table) if version is None else self._table(table, version)
        if partitions is not None:
            column, values = partitions
            # Pruned by the partition values in the log, before any file is opened.
            pruned = snapshot.to_pyarrow_dataset(file_pruning_predicate=in_predicate(column, values))
            return pruned.to_table(columns=columns)
        return snapshot.to_pyarrow_table(columns=columns)

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
        return self._current(table).history(limit) if self.exists(table) else []

    def append(
        self,
        table: str,
        data: pa.Table,
        *,
        app_id: str | None = None,
        partition_by: list[str] | None = None,
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        """Append; with an app_id, at most once (a replay of the same id is skipped); `processed` records
        the input versions the rows were built from."""
        if app_id is None:
            return self._write(table, data, mode="append", partition_by=partition_by, processed=processed)
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
            # include it, and delta-rs would append it again). A missing table is first created empty,
            # on its own: two writers creating it with their batches would both commit them.
            stored = data.drop_columns(["_app_id"]) if "_app_id" in data.column_names else data
            if not self.exists(table):
                self._create(table, stored.schema, partition_by)
            snapshot = self._table(table)
            done = {a for a in app_ids if _transaction_version(snapshot, a) is not None}
            todo = [app_id for app_id in app_ids if app_id not in done]
            rows = 0  # a retry that finds its batches committed (by another writer) writes nothing
            if not todo:
                return
            pending = stored if not done else stored.filter(pc.is_in(data[key_column], pa.array(todo)))
            rows = pending.num_rows
            write_deltalake(
                snapshot,
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
        return Commit(table, self.version(table), rows, skipped=not todo, app_ids=tuple(todo))

    def _create(self, table: str, schema: pa.Schema, partition_by: list[str] | None) -> None:
        """An empty table; nothing when another writer created it first (its version 0 is taken)."""
        try:
            write_deltalake(
                self.uri(table),
                schema.empty_table(),
                mode="error",
                partition_by=partition_by,
                storage_options=self.storage_options or None,
            )
        except (DeltaError, CommitFailedError):
            if not self.exists(table):
                raise

    def overwrite(
        self,
        table: str,
        data: pa.Table,
        *,
        partition_by: list[str] | None = None,
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        """Replace the whole table; `processed` records the input versions it was built from."""
        return self._write(table, data, mode="overwrite", partition_by=partition_by, processed=processed)

    def replace(
        self,
        table: str,
        data: pa.Table,
        column: str,
        values: Iterable[Any],
        *,
        partition_by: list[str] | None = None,
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        """Replace every row whose `column` is one of `values` by `data`, in one commit.

        On a partition column this rewrites exactly those partitions (Delta's replaceWhere).
        """

        def commit() -> None:
            write_deltalake(
                self.uri(table),
                data,
                mode="overwrite",
                predicate=in_predicate(column, values),
                partition_by=partition_by,
                storage_options=self.storage_options or None,
                commit_properties=_processed(processed),
            )

        _retry_on_conflict(commit)
        return Commit(table, self.version(table), data.num_rows)

    def merge(
        self,
        table: str,
        data: pa.Table,
        keys: list[str],
        *,
        scope: tuple[str, Iterable[Any]] | None = None,
        within: Iterable[str] = (),
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        """Upsert by keys: matching rows are replaced, new rows inserted.

        With a scope `(column, values)`, the source is the whole truth for those values: target rows in
        the scope that the source no longer has are deleted (a session merged into another, an
        anonymous person stitched to a user). `within` names partition columns whose value a key never
        changes: rows are matched within them too, so only the partitions the source has are read and
        rewritten.
        """
        if not self.exists(table):
            return self.overwrite(table, data, processed=processed)
        if scope is not None and list(keys) == [scope[0]]:
            # The key is the scope value: a row of a value the source has is matched, never deleted, so
            # only the values the source lacks need the delete clause (whose IN list delta-rs evaluates
            # on every row of the table; most runs have no such value at all).
            column, values = scope
            present = set(data.column(column).to_pylist())
            missing = [value for value in values if value not in present]
            scope = (column, missing) if missing else None
        predicate = " AND ".join(f"target.{k} = source.{k}" for k in [*keys, *within])
        for column in within:
            # The source's partitions as literals: delta-rs then prunes the target by them at once (a
            # join predicate alone costs it a pass over the source first, most of a small MERGE's time).
            present = {value for value in data.column(column).to_pylist() if value is not None}
            predicate += f" AND {in_predicate(f'target.{column}', present)}"

        def commit() -> None:
            merger = (
                self._current(table)
                .merge(
                    data,
                    predicate,
                    source_alias="source",
                    target_alias="target",
                    commit_properties=_processed(processed),
                )
                .when_matched_update_all()
                .when_not_matched_insert_all()
            )
            if scope is not None:
                column, values = scope
                merger = merger.when_not_matched_by_source_delete(in_predicate(f"target.{column}", values))
            merger.execute()

        before = self.version(table)
        _retry_on_conflict(commit)
        if self.version(table) == before and processed is not None:
            # delta-rs commits nothing for a MERGE that changes no row: progress is recorded alone, so
            # that the tables built from this one do not wait for a version it never writes.
            self.replace(table, self.schema(table).empty_table(), keys[0], [], processed=processed)
        return Commit(table, self.version(table), data.num_rows)

    def rewritten_since(self, table: str, version: int) -> bool:
        """Whether a commit after `version` replaced the whole table (a full build, not a partial one)."""
        current = self.version(table)
        if current is None or current <= version:
            return False
        for entry in self.history(table, limit=current - version):
            parameters = entry.get("operationParameters") or {}
            mode = str(parameters.get("mode", "")).lower()
            if entry.get("operation") == "WRITE" and mode == "overwrite" and not parameters.get("predicate"):
                return True
        return False

    def processed(self, table: str) -> dict[str, int | None] | None:
        """The input versions the table's latest build recorded (maintenance commits record none)."""
        # The latest build is nearly always among the last few commits; the whole log only otherwise.
        for limit in (10, None):
            for entry in self.history(table, limit):
                if PROCESSED_KEY in entry:
                    return json.loads(entry[PROCESSED_KEY])
                if PROCESSED_KEY in (entry.get("userMetadata") or ""):  # written by the Spark engine
                    return json.loads(json.loads(entry["userMetadata"])[PROCESSED_KEY])
        return None

    def changed_files(
        self, table: str, since: int, until: int
    ) -> tuple[list[AddedFile], list[AddedFile]] | None:
        """The data files added and removed (with a data change) after version `since` up to `until`,
        read from the log. Compaction adds and removes files with `dataChange: false`: rows moved,
        nothing changed, so they are left out. None when a commit's log entry is gone (log retention):
        the caller must rebuild in full."""
        filesystem, base = filesystem_for(self.uri(table), self.storage_options)
        added: list[AddedFile] = []
        removed: list[AddedFile] = []
        for version in range(since + 1, until + 1):
            try:
                with filesystem.open_input_stream(f"{base}/_delta_log/{version:020d}.json") as stream:
                    lines = stream.read().decode().splitlines()
            except (FileNotFoundError, OSError):
                return None
            for line in lines:
                entry = json.loads(line) if line else {}
                for kind, files in (("add", added), ("remove", removed)):
                    action = entry.get(kind)
                    if action and action.get("dataChange", True):
                        files.append(AddedFile(unquote(action["path"]), action.get("partitionValues") or {}))
        return added, removed

    def read_files(self, table: str, files: list[AddedFile], columns: list[str]) -> pa.Table:
        """The given columns of the rows in these data files; partition columns from the log.

        A data file never changes once written, so the last few reads are kept: the new rows of a
        table that drives several others are read once per run, not once per table.
        """
        key = (self.uri(table), tuple(file.path for file in files), tuple(columns))
        if key in self._file_reads:
            self._file_reads.move_to_end(key)
            return self._file_reads[key]
        rows = self._read_files(table, files, columns)
        self._file_reads[key] = rows
        kept = sum(read.nbytes for read in self._file_reads.values())
        while kept > FILE_READS_KEPT_BYTES and len(self._file_reads) > 1:
            kept -= self._file_reads.popitem(last=False)[1].nbytes
        return rows

    def _read_files(self, table: str, files: list[AddedFile], columns: list[str]) -> pa.Table:
        filesystem, base = filesystem_for(self.uri(table), self.storage_options)
        schema = self.schema(table)
        fields = [pa.field(name, schema.field(name).type) for name in columns]
        pieces = []
        for file in files:
            stored = [name for name in columns if name not in file.partition_values]
            piece = pq.read_table(f"{base}/{file.path}", columns=stored, filesystem=filesystem)
            for name, value in file.partition_values.items():
                if name in columns:
                    values = pa.array([value] * piece.num_rows, pa.string())
                    piece = piece.append_column(name, values.cast(schema.field(name).type))
            pieces.append(piece.select(columns).cast(pa.schema(fields)))
        return pa.concat_tables(pieces) if pieces else pa.schema(fields).empty_table()

    def _write(
        self,
        table: str,
        data: pa.Table,
        *,
        mode: str,
        partition_by: list[str] | None,
        processed: Mapping[str, int | None] | None = None,
    ) -> Commit:
        def commit() -> None:
            write_deltalake(
                self.uri(table),
                data,
                mode=mode,
                partition_by=partition_by,
                schema_mode="merge" if mode == "append" else "overwrite",
                storage_options=self.storage_options or None,
                commit_properties=_processed(processed),
            )

        _retry_on_conflict(commit)
        return Commit(table, self.version(table), data.num_rows)


@dataclass(frozen=True)
class AddedFile:
    path: str  # relative to the table's root
    partition_values: dict[str, str | None]


def _processed(versions: Mapping[str, int | None] | None) -> CommitProperties | None:
    if versions is None:
        return None
    return CommitProperties(custom_metadata={PROCESSED_KEY: json.dumps(dict(versions), sort_keys=True)})


def _literal(value: Any) -> str:
    if value is None:
        raise ValueError("a scope value cannot be null")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def in_predicate(column: str, values: Iterable[Any]) -> str:
    """`column IN (values)` as SQL both delta-rs and Spark read; an empty set is `false`."""
    literals = sorted({_literal(value) for value in values})
    return f"{column} IN ({', '.join(literals)})" if literals else "false"


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


__all__ = ["AddedFile", "Commit", "DeltaRsLake", "TableNotFoundError"]
