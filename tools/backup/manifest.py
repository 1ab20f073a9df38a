"""The backup folder's ``manifest.json``: what it records, its own checksum and the SHA-256 of
every file it names, and the check ``restore`` makes before it touches any server."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from tools.backup.errors import Refused

# The backup folder's layout.
FORMAT = "chuangwen-backup/1"
MANIFEST = "manifest.json"
PG_FILE = "postgres.dump"
STREAMS_DIR = "streams"


class FileEntry(BaseModel):
    path: str  # relative to the backup folder
    bytes: int
    sha256: str


class PostgresPart(BaseModel):
    file: FileEntry
    server_version: str
    pg_dump_version: str
    pg_dump_major: int
    schemas: list[str]  # ours that existed at the time
    started_at: datetime
    finished_at: datetime


class StreamPart(BaseModel):
    name: str
    file: FileEntry
    config: dict[str, Any]  # as JetStream returned it with the snapshot
    state: dict[str, Any]  # the state of the snapshot itself
    taken_at: datetime


class Manifest(BaseModel):
    format: Literal["chuangwen-backup/1"]
    created_at: datetime
    finished_at: datetime
    postgres: PostgresPart
    streams: list[StreamPart]
    absent_streams: list[str]  # ours that did not exist on the server (nothing to restore)


def manifest_checksum(data: dict[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON, without its own ``manifest_sha256``."""
    rest = {k: v for k, v in data.items() if k != "manifest_sha256"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def write_manifest(directory: Path, manifest: Manifest) -> Path:
    """Write ``manifest.json`` with its own checksum (over everything else in it)."""
    data = manifest.model_dump(mode="json")
    data["manifest_sha256"] = manifest_checksum(data)
    path = directory / MANIFEST
    partial = directory / f".{MANIFEST}.partial"
    partial.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    partial.replace(path)
    return path


def file_entry(directory: Path, path: Path) -> FileEntry:
    """The size and SHA-256 of ``path``, named relative to the backup folder ``directory``."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return FileEntry(
        path=path.relative_to(directory).as_posix(),
        bytes=path.stat().st_size,
        sha256=digest.hexdigest(),
    )


def verify_backup(directory: Path) -> Manifest:
    """The manifest of ``directory`` once it and every file it names check out; `Refused`
    (with what does not match) otherwise."""
    path = directory / MANIFEST
    if not path.is_file():
        raise Refused(f"{path} not found: {directory} is not a backup, or an unfinished one")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refused(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("manifest_sha256"), str):
        raise Refused(f"{path} has no manifest_sha256: not a {FORMAT} manifest")
    claimed = data.pop("manifest_sha256")
    actual = manifest_checksum(data)
    if claimed != actual:
        raise Refused(
            f"{path} was changed after it was written: its checksum is {actual[:16]}…,"
            f" it records {claimed[:16]}…; restore from an intact copy of the backup"
        )
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise Refused(f"{path} is not a {FORMAT} manifest: {exc}") from None
    root = directory.resolve()
    entries = [manifest.postgres.file, *(part.file for part in manifest.streams)]
    for entry in entries:
        file = (root / entry.path).resolve()
        if not file.is_relative_to(root):
            raise Refused(f"{path} names a file outside the backup: {entry.path}")
        if not file.is_file():
            raise Refused(f"{entry.path} is missing from {directory}")
        found = file_entry(root, file)
        if (found.bytes, found.sha256) != (entry.bytes, entry.sha256):
            raise Refused(
                f"{entry.path} does not match the manifest (sha256 {found.sha256[:16]}…,"
                f" {found.bytes} bytes; recorded {entry.sha256[:16]}…, {entry.bytes} bytes):"
                " the file was changed or damaged"
            )
    for part in manifest.streams:
        if part.config.get("name") != part.name:
            raise Refused(f"{path}: stream {part.name} carries the configuration of another")
    return manifest
