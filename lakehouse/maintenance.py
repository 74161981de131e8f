"""Delta table maintenance: compact small files, vacuum files no version needs, checkpoint the log.

Bronze is append-only with one small commit and one small file per landing file or extract batch, so
its tables gather many small files that slow every read, and commit latency grows with the log until
the next checkpoint (delta-rs writes one every 100 commits). Maintenance rewrites the small files of
each partition into a few large ones (the rows stay the same, and the new files are marked
`dataChange: false`, so incremental readers see no new data), deletes the files only older versions
still use once they have been unused for the retention, and checkpoints the log at its latest version.

Vacuum is what makes erasure real: a row deleted or overwritten in a table stays readable in the files
of older versions (time travel) until those files are vacuumed. Column statistics in the log can still
hold old values until those log entries expire too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from deltalake import DeltaTable
from pyarrow import fs

from lakehouse.lake import DeltaRsLake, _retry_on_conflict
from lakehouse.storage import filesystem_for

LAYERS = ("bronze", "silver", "quality")
# Below delta-rs's default retention it refuses to vacuum unless told the shorter one is deliberate.
DELTA_DEFAULT_RETENTION_HOURS = 168
OWN_RETENTION = "delta.deletedFileRetentionDuration"


@dataclass(frozen=True)
class TableMaintenance:
    """What one maintenance run did to one table."""

    table: str
    version_before: int
    version_after: int
    files_before: int
    files_after: int
    files_compacted: int  # small files rewritten into larger ones
    files_vacuumed: int
    bytes_vacuumed: int
    checkpoint_version: int | None  # None: the log was already checkpointed at its latest version


@dataclass(frozen=True)
class LakeMaintenance:
    tables: list[TableMaintenance]
    failures: dict[str, str]  # table -> error, for each table that could not be maintained


def list_tables(lake: DeltaRsLake) -> list[str]:
    """Every Delta table directly under the lake's bronze, silver and quality folders, in name order."""
    filesystem, base = filesystem_for(lake.root, lake.storage_options)
    tables = []
    for layer in LAYERS:
        selector = fs.FileSelector(f"{base}/{layer}", allow_not_found=True)
        for info in filesystem.get_file_info(selector):
            table = f"{layer}/{info.base_name}"
            if info.type == fs.FileType.Directory and lake.exists(table):
                tables.append(table)
    return sorted(tables)


def maintain_lake(lake: DeltaRsLake, retention_hours: int) -> LakeMaintenance:
    """maintain_table on every bronze, silver and quality table; a table that fails is reported, not fatal."""
    done: list[TableMaintenance] = []
    failures: dict[str, str] = {}
    for table in list_tables(lake):
        try:
            done.append(maintain_table(lake, table, retention_hours))
        except Exception as error:  # one table delta-rs cannot maintain must not leave the rest undone
            failures[table] = f"{type(error).__name__}: {error}"
    return LakeMaintenance(done, failures)


def maintain_table(lake: DeltaRsLake, table: str, retention_hours: int) -> TableMaintenance:
    """Compact the table, vacuum it, checkpoint its log and drop log entries past the log retention.

    Vacuum deletes only files the log has marked removed for longer than retention_hours (delta-rs's
    lite mode): never a file of the current version, nor one a concurrent writer has written but not
    yet committed. Afterwards older versions whose files are gone can no longer be read: time travel,
    and a reader that loaded an older version before the run, reach back retention_hours at most (or
    the table's own `delta.deletedFileRetentionDuration`, which wins where a table sets one).
    Log entries go after `delta.logRetentionDuration` (30 days unless the table sets it).
    """
    before = _open(lake, table)
    compacted = _compact(lake, table)
    vacuumed = _vacuum(lake, table, retention_hours)
    after = _open(lake, table)
    checkpoint = _checkpoint(lake, table, after)
    after.cleanup_metadata()
    return TableMaintenance(
        table=table,
        version_before=before.version(),
        version_after=after.version(),
        files_before=len(before.file_uris()),
        files_after=len(after.file_uris()),
        files_compacted=compacted,
        files_vacuumed=len(vacuumed),
        bytes_vacuumed=sum(vacuumed.values()),
        checkpoint_version=checkpoint,
    )


def _open(lake: DeltaRsLake, table: str) -> DeltaTable:
    return DeltaTable(lake.uri(table), storage_options=lake.storage_options or None)


def _compact(lake: DeltaRsLake, table: str) -> int:
    """Bin-pack each partition's small files; the number of files rewritten."""
    rewritten = 0

    def commit() -> None:
        nonlocal rewritten
        # A fresh snapshot per attempt: compaction loses to a concurrent merge or overwrite.
        rewritten = _open(lake, table).optimize.compact()["numFilesRemoved"]

    _retry_on_conflict(commit)
    return rewritten


def _vacuum(lake: DeltaRsLake, table: str, retention_hours: int) -> dict[str, int]:
    """Delete the removed files past the retention; the ones deleted, with their sizes in bytes.

    A table that declares its own `delta.deletedFileRetentionDuration` keeps it: whoever set it on that
    one table meant it, whatever the lake-wide setting says.
    """
    snapshot = _open(lake, table)
    hours = None if OWN_RETENTION in snapshot.metadata().configuration else retention_hours
    options = {
        "retention_hours": hours,
        "enforce_retention_duration": hours is None or hours >= DELTA_DEFAULT_RETENTION_HOURS,
    }
    # The log keeps a file's tombstone after vacuum deleted it, and vacuum lists it (and commits a
    # VACUUM START/END pair) on every run until the tombstone expires: run it only for files still stored.
    stored = _stored_sizes(lake, table, snapshot.vacuum(dry_run=True, **options))
    if not stored:
        return {}
    deleted: list[str] = []

    def commit() -> None:
        nonlocal deleted
        deleted = _open(lake, table).vacuum(dry_run=False, **options)

    _retry_on_conflict(commit)
    return {path: stored[path] for path in deleted if path in stored}


def _stored_sizes(lake: DeltaRsLake, table: str, paths: list[str]) -> dict[str, int]:
    """Size of each of these table-relative paths that exists in storage."""
    if not paths:
        return {}
    filesystem, base = filesystem_for(lake.uri(table), lake.storage_options)
    infos = filesystem.get_file_info([f"{base}/{path}" for path in paths])
    return {
        path: info.size or 0 for path, info in zip(paths, infos, strict=True) if info.type == fs.FileType.File
    }


def _checkpoint(lake: DeltaRsLake, table: str, snapshot: DeltaTable) -> int | None:
    """Checkpoint the snapshot's version unless the log already has one there; the version written."""
    version = snapshot.version()
    if _last_checkpoint(lake, table) == version:
        return None
    snapshot.create_checkpoint()
    return version


def _last_checkpoint(lake: DeltaRsLake, table: str) -> int | None:
    filesystem, base = filesystem_for(lake.uri(table), lake.storage_options)
    try:
        with filesystem.open_input_stream(f"{base}/_delta_log/_last_checkpoint") as stream:
            return json.loads(stream.read())["version"]
    except FileNotFoundError:
        return None
