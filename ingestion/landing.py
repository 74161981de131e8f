"""The landing zone: event files and CSV exports dropped in a folder or an S3 prefix.

Which files are already in bronze is decided by the bronze table's own log (one application
transaction per file content). The manifest table beside it only remembers each file's size and
modification time with its content hash, so a file seen before is not read again just to hash it.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import fs

from ingestion.bronze_writer import app_id
from lakehouse.lake import DeltaRsLake
from lakehouse.storage import filesystem_for

MANIFEST = "bronze/_landing_manifest"
MANIFEST_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("path", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("digest", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class FileRef:
    path: str  # relative to the landing root: the file's name in bronze `_source`
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class LandedFile:
    ref: FileRef
    content: bytes

    @property
    def path(self) -> str:
        return self.ref.path

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()[:32]

    def data(self) -> bytes:
        """The file's bytes, gzip undone."""
        return gzip.decompress(self.content) if self.path.endswith(".gz") else self.content

    def text(self) -> str:
        return self.data().decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Landing:
    """A landing zone: a local folder or an S3 prefix, with the options to reach it."""

    root: str
    storage_options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def at(cls, root: str | Landing, storage_options: dict[str, str] | None = None) -> Landing:
        if isinstance(root, Landing):
            return root
        return cls(root.rstrip("/"), tuple(sorted((storage_options or {}).items())))

    def filesystem(self) -> tuple[fs.FileSystem, str]:
        return filesystem_for(self.root, dict(self.storage_options))


def list_files(landing: str | Landing, prefix: str, suffixes: tuple[str, ...]) -> list[FileRef]:
    """Files below the landing zone's prefix ending in one of suffixes, in name order."""
    filesystem, base = Landing.at(landing).filesystem()
    selector = fs.FileSelector(f"{base}/{prefix}", recursive=True, allow_not_found=True)
    found = [
        FileRef(info.path[len(base) + 1 :], info.size or 0, info.mtime_ns or 0)
        for info in filesystem.get_file_info(selector)
        if info.type == fs.FileType.File and info.path.endswith(suffixes)
    ]
    return sorted(found, key=lambda ref: ref.path)


def read_file(landing: str | Landing, ref: FileRef) -> LandedFile:
    filesystem, base = Landing.at(landing).filesystem()
    # compression=None: the bytes as stored (a .gz file is hashed as it is and gunzipped once, by data()).
    with filesystem.open_input_stream(f"{base}/{ref.path}", compression=None) as stream:
        return LandedFile(ref, stream.read())


def put_file(landing: str | Landing, relative: str, payload: bytes) -> None:
    """Write a file into the landing zone (the simulator's and tests' way in)."""
    filesystem, base = Landing.at(landing).filesystem()
    path = f"{base}/{relative}"
    filesystem.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with filesystem.open_output_stream(path, compression=None) as out:
        out.write(payload)


def _known_digests(lake: DeltaRsLake, table: str) -> dict[tuple[str, int, int], str]:
    if not lake.exists(MANIFEST):
        return {}
    manifest = lake.read(MANIFEST)
    manifest = manifest.filter(pc.equal(manifest["table_name"], table))
    return {
        (row["path"], row["size"], row["mtime_ns"]): row["digest"]
        for row in manifest.select(["path", "size", "mtime_ns", "digest"]).to_pylist()
    }


def pending_files(
    lake: DeltaRsLake, table: str, landing: str | Landing, prefix: str, suffixes: tuple[str, ...]
) -> tuple[list[FileRef], list[str]]:
    """(files that may still need ingesting, digests of the unchanged files already ingested)."""
    known = _known_digests(lake, table)
    is_committed = lake.transaction_lookup(table)
    todo, done = [], []
    for ref in list_files(landing, prefix, suffixes):
        digest = known.get((ref.path, ref.size, ref.mtime_ns))
        if digest is not None and is_committed(app_id(table, digest)):
            done.append(digest)
        else:
            todo.append(ref)
    return todo, done


def record_ingested(lake: DeltaRsLake, table: str, files: list[LandedFile]) -> None:
    """Remember the files' hashes; losing this write costs a re-read next time, never a duplicate."""
    if not files:
        return
    now = datetime.now(UTC)
    rows = [
        {
            "table_name": table,
            "path": f.path,
            "size": f.ref.size,
            "mtime_ns": f.ref.mtime_ns,
            "digest": f.digest,
            "recorded_at": now,
        }
        for f in files
    ]
    lake.append(MANIFEST, pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA))
