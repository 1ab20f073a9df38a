"""The backup manifest (tools/backup.py): a backup whose manifest or files were changed after
it was written is refused with what does not match, before any server is touched."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools import backup

STATE = {"messages": 6, "bytes": 814, "first_seq": 4, "last_seq": 10, "num_deleted": 1}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A complete backup folder with made-up contents and a manifest written by the tool."""
    (tmp_path / backup.STREAMS_DIR).mkdir()
    (tmp_path / backup.PG_FILE).write_bytes(b"PGDMP fake dump")
    snapshot = tmp_path / backup.STREAMS_DIR / "ISSUES.snapshot"
    snapshot.write_bytes(b"s2 tar of the message store")
    now = datetime.now(UTC)
    manifest = backup.Manifest(
        format=backup.FORMAT,
        created_at=now,
        finished_at=now,
        postgres=backup.PostgresPart(
            file=backup._file_entry(tmp_path, tmp_path / backup.PG_FILE),
            server_version="18.6",
            pg_dump_version="pg_dump (PostgreSQL) 18.6",
            pg_dump_major=18,
            schemas=list(backup.SCHEMAS),
            started_at=now,
            finished_at=now,
        ),
        streams=[
            backup.StreamPart(
                name="ISSUES",
                file=backup._file_entry(tmp_path, snapshot),
                config={"name": "ISSUES", "subjects": ["issues.v1.>", "units.v1.>"]},
                state=STATE,
                taken_at=now,
            )
        ],
        absent_streams=["ASSESSMENTS"],
    )
    backup.write_manifest(tmp_path, manifest)
    return tmp_path


def edit_manifest(folder: Path, change: dict[str, object]) -> None:
    """Change the recorded state of the stream, leaving the manifest's checksum as it was."""
    path = folder / backup.MANIFEST
    data = json.loads(path.read_text())
    data["streams"][0]["state"].update(change)
    path.write_text(json.dumps(data))


def test_an_intact_backup_is_accepted(folder: Path) -> None:
    manifest = backup.verify_backup(folder)
    assert manifest.streams[0].state == STATE
    assert manifest.postgres.file.path == backup.PG_FILE
    assert manifest.streams[0].file.path == "streams/ISSUES.snapshot"


def test_a_changed_file_is_refused_naming_it(folder: Path) -> None:
    snapshot = folder / "streams" / "ISSUES.snapshot"
    snapshot.write_bytes(snapshot.read_bytes().replace(b"tar", b"TAR"))  # same size
    with pytest.raises(backup.Refused, match=r"streams/ISSUES\.snapshot does not match"):
        backup.verify_backup(folder)


def test_a_truncated_dump_is_refused(folder: Path) -> None:
    (folder / backup.PG_FILE).write_bytes(b"PGDMP")
    with pytest.raises(backup.Refused, match=r"postgres\.dump does not match .* changed or dam"):
        backup.verify_backup(folder)


def test_an_edited_manifest_is_refused(folder: Path) -> None:
    edit_manifest(folder, {"last_seq": 11})
    with pytest.raises(backup.Refused, match="was changed after it was written"):
        backup.verify_backup(folder)


def test_a_missing_file_or_manifest_is_refused(folder: Path) -> None:
    (folder / "streams" / "ISSUES.snapshot").unlink()
    with pytest.raises(backup.Refused, match=r"ISSUES\.snapshot is missing"):
        backup.verify_backup(folder)
    (folder / backup.MANIFEST).unlink()
    with pytest.raises(backup.Refused, match="not a backup, or an unfinished one"):
        backup.verify_backup(folder)


def test_a_manifest_naming_a_file_outside_the_backup_is_refused(folder: Path) -> None:
    path = folder / backup.MANIFEST
    data = json.loads(path.read_text())
    data["postgres"]["file"]["path"] = "../elsewhere.dump"
    data["manifest_sha256"] = backup.manifest_checksum(data)
    path.write_text(json.dumps(data))
    with pytest.raises(backup.Refused, match="outside the backup"):
        backup.verify_backup(folder)


def test_restore_of_a_tampered_backup_exits_2_before_reaching_any_server(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_manifest(folder, {"messages": 5})
    # Nothing listens on port 9: the manifest is checked before any connection is tried.
    args = ["--nats-url", "nats://127.0.0.1:9", "--database-url", "postgresql://x@127.0.0.1:9/x"]
    assert backup.main(["restore", str(folder), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("restore refused: ")
    assert "manifest.json was changed after it was written" in err
    assert "127.0.0.1:9" not in err


def test_the_state_comparison_names_each_difference() -> None:
    assert backup.state_differences(STATE, dict(STATE)) == []
    assert backup.state_differences(STATE, {**STATE, "last_seq": 9, "bytes": 1}) == [
        "bytes 1 (expected 814)",
        "last_seq 9 (expected 10)",
    ]
    # An empty stream reports first_seq 0 or last + 1: only its last sequence counts.
    empty = {"messages": 0, "bytes": 0, "first_seq": 0, "last_seq": 3, "num_deleted": 0}
    assert backup.state_differences(empty, {**empty, "first_seq": 4}) == []
    assert backup.state_differences(empty, {**empty, "last_seq": 0}) == ["last_seq 0 (expected 3)"]
