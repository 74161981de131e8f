"""The landing zone: event files and CSV exports dropped in a folder or an S3 prefix."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

from pyarrow import fs


@dataclass(frozen=True)
class LandedFile:
    path: str  # relative to the landing root, the file's identity in bronze `_source`
    content: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()[:32]

    def text(self) -> str:
        raw = gzip.decompress(self.content) if self.path.endswith(".gz") else self.content
        return raw.decode("utf-8", errors="replace")


def filesystem_for(root: str) -> tuple[fs.FileSystem, str]:
    if "://" in root:
        return fs.FileSystem.from_uri(root)
    return fs.LocalFileSystem(), root


def list_files(root: str, prefix: str, suffixes: tuple[str, ...]) -> list[str]:
    """Relative paths below root/prefix ending in one of suffixes, in name order."""
    filesystem, base = filesystem_for(root)
    selector = fs.FileSelector(f"{base}/{prefix}", recursive=True, allow_not_found=True)
    found = [
        info.path[len(base) + 1 :]
        for info in filesystem.get_file_info(selector)
        if info.type == fs.FileType.File and info.path.endswith(suffixes)
    ]
    return sorted(found)


def read_file(root: str, relative: str) -> LandedFile:
    filesystem, base = filesystem_for(root)
    with filesystem.open_input_stream(f"{base}/{relative}") as stream:
        return LandedFile(relative, stream.read())
