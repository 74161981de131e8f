"""Where the simulator's outputs go: landing files (folder or S3), ground-truth CSVs, or memory."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from pyarrow import fs

from ingestion.landing import Landing
from ingestion.simulation.truth import COLUMNS

_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:\.csv|\.ndjson(?:\.gz)?)$")
# pyarrow would (de)compress a `.gz` path on the fly by default; the bytes given are already gzip.
STREAM_COMPRESSION: str | None = None
MARKER = "_simulator/world.json"  # outside events/ and exports/: the pipeline never reads it


class LandingFiles:
    """Writes landing-zone files under a folder or an s3://bucket/prefix.

    A day's files never change once written (late events go to later days' files), so when the landing
    zone already holds the same world (its marker says so) up to some day, the files of the days up to
    that day that exist are not written again: advancing a world only writes the new days.
    """

    def __init__(self, root: str | Landing, storage_options: dict[str, str] | None = None) -> None:
        self.filesystem, self.base = Landing.at(root, storage_options).filesystem()
        self._dirs: set[str] = set()
        self.kept_until: str | None = None  # ISO day: files of days up to it are kept when they exist
        self.written = 0
        self.kept = 0

    def read_marker(self) -> dict | None:
        try:
            with self.filesystem.open_input_stream(f"{self.base}/{MARKER}") as handle:
                return json.loads(handle.read())
        except (FileNotFoundError, OSError, ValueError):
            return None

    def write_marker(self, marker: dict) -> None:
        self.put(MARKER, json.dumps(marker, sort_keys=True, indent=1).encode())

    def _kept(self, relative: str) -> bool:
        if self.kept_until is None:
            return False
        found = _DAY.search(relative)
        if found is None or found.group(1) > self.kept_until:
            return False
        return self.filesystem.get_file_info(f"{self.base}/{relative}").type == fs.FileType.File

    def put(self, relative: str, payload: bytes) -> None:
        if self._kept(relative):
            self.kept += 1
            return
        self.written += 1
        path = f"{self.base}/{relative}"
        folder = path.rsplit("/", 1)[0]
        if folder not in self._dirs:
            self.filesystem.create_dir(folder, recursive=True)
            self._dirs.add(folder)
        with self.filesystem.open_output_stream(path, compression=STREAM_COMPRESSION) as out:
            out.write(payload)


class MemoryFiles:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, relative: str, payload: bytes) -> None:
        self.files[relative] = payload


def _cell(value: object) -> object:
    return "" if value is None else value


class CsvTruth:
    """Ground-truth tables streamed to `<folder>/<table>.csv` as their rows become final."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.counts = dict.fromkeys(COLUMNS, 0)
        self._files = {}
        for table, columns in COLUMNS.items():
            handle = (self.folder / f"{table}.csv").open("w", newline="")
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            self._files[table] = (handle, writer)

    def emit(self, table: str, row: dict) -> None:
        self._files[table][1].writerow([_cell(row[c]) for c in COLUMNS[table]])
        self.counts[table] += 1

    def close(self) -> dict[str, int]:
        for handle, _ in self._files.values():
            handle.close()
        return self.counts


def write_truth_tables(tables: dict[str, list[dict]], folder: Path) -> dict[str, int]:
    """Tables kept in memory written exactly as CsvTruth streams them."""
    sink = CsvTruth(folder)
    for table, rows in tables.items():
        for row in rows:
            sink.emit(table, row)
    return sink.close()
