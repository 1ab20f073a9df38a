"""The backup manifest (tools/backup/manifest.py): a backup whose manifest or files were
changed after it was written is refused with what does not match, before any server is touched."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools.backup.cli import main
from tools.backup.errors import Refused
from tools.backup.jetstream import state_differences
from tools.backup.manifest import (
    FORMAT,
    MANIFEST,
    PG_FILE,
    STREAMS_DIR,
    Manifest,
    PostgresPart,
    StreamPart,
    file_entry,
    manifest_checksum,
    verify_backup,
    write_manifest,
)
from tools.backup.postgres import SCHEMAS

STATE = {"messages": 6, "bytes": 814, "first_seq": 4, "last_seq": 10, "num_deleted": 1}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A complete backup folder with made-up contents and a manifest written by the tool."""
    (tmp_path / STREAMS_DIR).mkdir()
    (tmp_path / PG_FILE).write_bytes(b"PGDMP fake dump")
    snapshot = tmp_path / STREAMS_DIR / "ISSUES.snapshot"
    snapshot.write_bytes(b"s2 tar of the message store")
    now = datetime.now(UTC)
    manifest = Manifest(
        format=FORMAT,
        created_at=now,
        finished_at=now,
        postgres=PostgresPart(
            file=file_entry(tmp_path, tmp_path / PG_FILE),
            server_version="18.6",
            pg_dump_version="pg_dump (PostgreSQL) 18.6",
            pg_dump_major=18,
            schemas=list(SCHEMAS),
            started_at=now,
            finished_at=now,
        ),
        streams=[
            StreamPart(
                name="ISSUES",
                file=file_entry(tmp_path, snapshot),
                config={"name": "ISSUES", "subjects": ["issues.v1.>", "units.v1.>"]},
                state=STATE,
                taken_at=now,
            )
        ],
        absent_streams=["ASSESSMENTS"],
    )
    write_manifest(tmp_path, manifest)
    return tmp_path


def edit_manifest(folder: Path, change: dict[str, object]) -> None:
    """Change the recorded state of the stream, leaving the manifest's checksum as it was."""
    path = folder / MANIFEST
    data = json.loads(path.read_text())
    data["streams"][0]["state"].update(change)
    path.write_text(json.dumps(data))


def test_an_intact_backup_is_accepted(folder: Path) -> None:
    manifest = verify_backup(folder)
    assert manifest.streams[0].state == STATE
    assert manifest.postgres.file.path == PG_FILE
    assert manifest.streams[0].file.path == "streams/ISSUES.snapshot"


def test_a_changed_file_is_refused_naming_it(folder: Path) -> None:
    snapshot = folder / "streams" / "ISSUES.snapshot"
    snapshot.write_bytes(snapshot.read_bytes().replace(b"tar", b"TAR"))  # same size
    with pytest.raises(Refused, match=r"streams/ISSUES\.snapshot does not match"):
        verify_backup(folder)


def test_a_truncated_dump_is_refused(folder: Path) -> None:
    (folder / PG_FILE).write_bytes(b"PGDMP")
    with pytest.raises(Refused, match=r"postgres\.dump does not match .* changed or dam"):
        verify_backup(folder)


def test_an_edited_manifest_is_refused(folder: Path) -> None:
    edit_manifest(folder, {"last_seq": 11})
    with pytest.raises(Refused, match="was changed after it was written"):
        verify_backup(folder)


def test_a_missing_file_or_manifest_is_refused(folder: Path) -> None:
    (folder / "streams" / "ISSUES.snapshot").unlink()
    with pytest.raises(Refused, match=r"ISSUES\.snapshot is missing"):
        verify_backup(folder)
    (folder / MANIFEST).unlink()
    with pytest.raises(Refused, match="not a backup, or an unfinished one"):
        verify_backup(folder)


def test_a_manifest_naming_a_file_outside_the_backup_is_refused(folder: Path) -> None:
    path = folder / MANIFEST
    data = json.loads(path.read_text())
    data["postgres"]["file"]["path"] = "../elsewhere.dump"
    data["manifest_sha256"] = manifest_checksum(data)
    path.write_text(json.dumps(data))
    with pytest.raises(Refused, match="outside the backup"):
        verify_backup(folder)


def test_restore_of_a_tampered_backup_exits_2_before_reaching_any_server(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_manifest(folder, {"messages": 5})
    # Nothing listens on port 9: the manifest is checked before any connection is tried.
    args = ["--nats-url", "nats://127.0.0.1:9", "--database-url", "postgresql://x@127.0.0.1:9/x"]
    assert main(["restore", str(folder), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("restore refused: ")
    assert "manifest.json was changed after it was written" in err
    assert "127.0.0.1:9" not in err


def test_the_state_comparison_names_each_difference() -> None:
    assert state_differences(STATE, dict(STATE)) == []
    assert state_differences(STATE, {**STATE, "last_seq": 9, "bytes": 1}) == [
        "bytes 1 (expected 814)",
        "last_seq 9 (expected 10)",
    ]
    # An empty stream reports first_seq 0 or last + 1: only its last sequence counts.
    empty = {"messages": 0, "bytes": 0, "first_seq": 0, "last_seq": 3, "num_deleted": 0}
    assert state_differences(empty, {**empty, "first_seq": 4}) == []
    assert state_differences(empty, {**empty, "last_seq": 0}) == ["last_seq 0 (expected 3)"]
