"""Symlink manifests of Delta tables, for readers that cannot read a Delta log (Redshift Spectrum).

A manifest lists the absolute URIs of the data files of a table's current snapshot, one per line, in the
layout Delta's `GENERATE symlink_format_manifest` writes: `<table>/_symlink_format_manifest/manifest` for
an unpartitioned table, and one `<table>/_symlink_format_manifest/<col>=<value>/.../manifest` per
partition of a partitioned one, partition values escaped as Hive escapes path names. Manifests of
partitions the snapshot no longer has are deleted after the current ones are written, as Delta does.

A reader sees each manifest whole or not at all: on S3 every manifest is one PUT (objects appear
complete or not), on a folder it is written beside its final name and renamed over it. Consistency
is per partition, as with Delta's own manifests: a reader of several partitions while they are being
rewritten can see some at the new snapshot and some at the previous one.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote

import pyarrow as pa
from deltalake import DeltaTable
from pyarrow import fs

from lakehouse.lake import DeltaRsLake
from lakehouse.storage import filesystem_for

MANIFEST_DIR = "_symlink_format_manifest"
MANIFEST_FILE = "manifest"
# Each manifest's digest, to rewrite only what changed; a dot file, which manifest readers skip.
STATE_FILE = ".manifests.json"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
# Hive's FileUtils.escapePathName (the non-Windows set), which Delta uses for manifest folders.
_ESCAPED = {*map(chr, range(0x01, 0x20)), '"', "#", "%", "'", "*", "/", ":", "=", "?", "\\", "\x7f"}
_ESCAPED |= {"{", "[", "]", "^"}
# Manifests are small objects; on S3 the time goes into round trips, so several are written at once.
WRITERS = 16


class ManifestError(ValueError):
    """The table has a feature a symlink manifest cannot express; the message says which and what to do."""


@dataclass(frozen=True)
class Partition:
    """One partition of a snapshot: its values as strings (None for null) and its manifest's folder."""

    values: tuple[tuple[str, str | None], ...]
    path: str  # relative to the manifest root: "col=value/...", "" for an unpartitioned table


@dataclass(frozen=True)
class Snapshot:
    """What the manifests of one table version list."""

    table: str
    version: int
    partition_columns: tuple[str, ...]
    files: Mapping[Partition, tuple[str, ...]]  # partition -> absolute URIs of its data files
    schema: str  # the version's Delta schema, as JSON

    @property
    def data_files(self) -> int:
        return sum(len(uris) for uris in self.files.values())


@dataclass(frozen=True)
class ManifestWrite:
    table: str
    version: int
    data_files: int
    manifests: int  # of the current snapshot: one per partition, or one
    manifests_written: int  # those whose content changed
    manifests_deleted: int
    seconds: float


def escape_path_name(value: str) -> str:
    return "".join(f"%{ord(char):02X}" if char in _ESCAPED else char for char in value)


def partition_path(values: tuple[tuple[str, str | None], ...]) -> str:
    """`col=value/...` as Hive (and Delta) name partition folders; a null or empty value is Hive's default."""
    return "/".join(
        f"{escape_path_name(column)}={escape_path_name(value) if value else NULL_PARTITION}"
        for column, value in values
    )


def partition_string(value: object) -> str | None:
    """A typed partition value as Spark casts it to a string, which is what Delta names folders by."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + f".{value.microsecond:06d}".rstrip("0") if value.microsecond else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def read_snapshot(lake: DeltaRsLake, table: str) -> Snapshot:
    """The data files of the table's current version, grouped by partition, as absolute URIs."""
    snapshot = DeltaTable(lake.uri(table), storage_options=lake.storage_options or None)
    _check_readable_without_log(snapshot, table)
    columns = tuple(snapshot.metadata().partition_columns)
    actions = pa.table(snapshot.get_add_actions(flatten=True))
    base = _table_uri(lake, table)
    values = {name: actions[f"partition.{name}"].to_pylist() for name in columns}
    files: dict[Partition, list[str]] = {}
    for index, path in enumerate(actions["path"].to_pylist()):
        key = tuple((name, partition_string(values[name][index])) for name in columns)
        partition = Partition(key, partition_path(key))
        # The log holds URI-encoded paths; the manifest holds the storage path, as Delta's does.
        relative = unquote(path)
        uri = relative if "://" in relative else f"{base}/{relative}"
        files.setdefault(partition, []).append(uri)
    if not columns and not files:
        files[Partition((), "")] = []  # an unpartitioned table always has its (here empty) manifest
    return Snapshot(
        table=table,
        version=snapshot.version(),
        partition_columns=columns,
        files={partition: tuple(sorted(uris)) for partition, uris in files.items()},
        schema=snapshot.schema().to_json(),
    )


def write_manifest(lake: DeltaRsLake, table: str, *, full: bool = False) -> ManifestWrite:
    """Bring the table's manifests to its current snapshot: write those that changed, delete vanished ones.

    A state file beside the manifests keeps each one's digest, so a run that changed a few partitions
    rewrites only theirs and a run that changed nothing writes nothing. It is deleted before anything
    is written and written again last: after a run cut short there is none, and the next run trusts
    nothing stored and writes every manifest, as Delta's GENERATE does (and as `full` asks).
    """
    started = time.perf_counter()
    snapshot = read_snapshot(lake, table)
    filesystem, base = filesystem_for(lake.uri(table), lake.storage_options)
    root = f"{base}/{MANIFEST_DIR}"
    contents = {
        partition.path: "".join(f"{uri}\n" for uri in uris).encode()
        for partition, uris in snapshot.files.items()
    }
    digests = {path: hashlib.sha256(content).hexdigest() for path, content in contents.items()}
    state = None if full else _read_state(filesystem, root)
    stored = state if state is not None else dict.fromkeys(_manifest_folders(filesystem, root))
    changed = [path for path, digest in digests.items() if stored.get(path) != digest]
    stale = sorted(set(stored) - set(contents))
    if changed or stale:
        with contextlib.suppress(FileNotFoundError):
            filesystem.delete_file(f"{root}/{STATE_FILE}")

        def write(path: str) -> None:
            _put(filesystem, f"{root}/{path}" if path else root, MANIFEST_FILE, contents[path])

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            list(pool.map(write, changed))
        for path in stale:
            with contextlib.suppress(FileNotFoundError):  # already gone: what a delete is for
                if path:
                    filesystem.delete_dir(f"{root}/{path}")
                else:  # the table was unpartitioned before
                    filesystem.delete_file(f"{root}/{MANIFEST_FILE}")
        _put(
            filesystem,
            root,
            STATE_FILE,
            json.dumps({"version": snapshot.version, "digests": digests}).encode(),
        )
    return ManifestWrite(
        table=table,
        version=snapshot.version,
        data_files=snapshot.data_files,
        manifests=len(contents),
        manifests_written=len(changed),
        manifests_deleted=len(stale),
        seconds=round(time.perf_counter() - started, 3),
    )


def _put(filesystem: fs.FileSystem, folder: str, name: str, content: bytes) -> None:
    """Store a file so that a reader sees the old one or the new one, never a part."""
    if not isinstance(filesystem, fs.LocalFileSystem):
        with filesystem.open_output_stream(f"{folder}/{name}") as stream:  # one object, complete or absent
            stream.write(content)
        return
    filesystem.create_dir(folder, recursive=True)
    # Beside its final name, under a name starting with a dot: Hive, Spark and Spectrum skip it.
    partial = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
    with filesystem.open_output_stream(partial) as stream:
        stream.write(content)
    filesystem.move(partial, f"{folder}/{name}")


def _read_state(filesystem: fs.FileSystem, root: str) -> dict[str, str] | None:
    try:
        with filesystem.open_input_stream(f"{root}/{STATE_FILE}") as stream:
            return json.loads(stream.read())["digests"]
    except FileNotFoundError:
        return None


def _manifest_folders(filesystem: fs.FileSystem, root: str) -> list[str]:
    selector = fs.FileSelector(root, recursive=True, allow_not_found=True)
    folders = []
    for info in filesystem.get_file_info(selector):
        if info.type == fs.FileType.File and info.base_name == MANIFEST_FILE:
            folders.append(info.path[len(root) + 1 : -len(MANIFEST_FILE)].rstrip("/"))
    return folders


def _table_uri(lake: DeltaRsLake, table: str) -> str:
    uri = lake.uri(table).rstrip("/")
    if "://" in uri:
        return uri
    # A local path, fully qualified as Hadoop qualifies it (what Delta writes for a local table).
    return "file:" + os.path.abspath(uri)


def _check_readable_without_log(snapshot: DeltaTable, table: str) -> None:
    """Refuse what Delta's GENERATE refuses: a manifest reader sees only whole Parquet files by name."""
    mode = snapshot.metadata().configuration.get("delta.columnMapping.mode", "none")
    if mode != "none":
        raise ManifestError(
            f"{table} uses column mapping (delta.columnMapping.mode={mode}): its Parquet files carry "
            "physical column names a manifest reader cannot map; rebuild the table without column mapping"
        )
    features = snapshot.protocol().reader_features or []
    if "deletionVectors" in features and snapshot.deletion_vectors().read_all().num_rows:
        raise ManifestError(
            f"{table} has rows deleted through deletion vectors, which a manifest cannot hide: purge them "
            "(Spark: REORG TABLE delta.`<table path>` APPLY (PURGE)) and keep deletion vectors disabled"
        )


def main(argv: list[str] | None = None) -> int:
    """Write the manifests of the given tables (default: every silver table) of the configured lake."""
    from lakehouse.settings import SettingsError, load_settings
    from transforms.registry import SILVER_TABLES

    parser = argparse.ArgumentParser(prog="python -m lakehouse.spectrum", description=main.__doc__)
    parser.add_argument("tables", nargs="*", help="lake tables such as silver/events")
    parser.add_argument("--full", action="store_true", help="rewrite every manifest, whatever is stored")
    arguments = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    lake = DeltaRsLake(settings.lake_uri, settings.storage_options())
    for table in arguments.tables or [t.name for t in SILVER_TABLES]:
        if not lake.exists(table):
            print(f"{table}: not in the lake at {lake.root}; build it first", file=sys.stderr)
            return 1
        done = write_manifest(lake, table, full=arguments.full)
        print(
            f"{table}: version {done.version}, {done.data_files} data files, "
            f"{done.manifests} manifests ({done.manifests_written} written, "
            f"{done.manifests_deleted} deleted) in {done.seconds}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
