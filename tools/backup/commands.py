"""The two commands: ``create`` (PostgreSQL, then every stream, then the manifest) and
``restore`` (verify, refuse a non-empty target, then PostgreSQL, the streams, the outbox rows)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS

from services.contracts.streams import ALL_STREAMS
from tools.backup.errors import Failed, Refused
from tools.backup.jetstream import (
    connect,
    restore_stream,
    snapshot_stream,
    state_differences,
    stream_state,
)
from tools.backup.manifest import (
    FORMAT,
    MANIFEST,
    STREAMS_DIR,
    Manifest,
    StreamPart,
    file_entry,
    verify_backup,
    write_manifest,
)
from tools.backup.outboxes import reconcile_outboxes
from tools.backup.postgres import describe_server, dump_postgres, pg_tool, restore_postgres


def _say(line: str) -> None:
    print(line, flush=True)


def _new_folder(directory: Path, make: bool) -> None:
    if directory.exists() and any(directory.iterdir()):
        raise Refused(f"{directory} exists and is not empty: give a new folder for the backup")
    if make:
        (directory / STREAMS_DIR).mkdir(parents=True, exist_ok=True)


async def create(directory: Path, nats_url: str, database_url: str) -> Manifest:
    """PostgreSQL first, then every stream of ours, then the manifest."""
    await asyncio.to_thread(_new_folder, directory, False)
    nc = await connect(nats_url)  # before the dump: fail early if NATS is away
    try:
        await asyncio.to_thread(_new_folder, directory, True)
        return await _create(nc, directory, database_url)
    except Failed as exc:
        raise Failed(f"{exc}; {directory} is incomplete (no {MANIFEST}): delete it") from None
    finally:
        await nc.close()


async def _create(nc: NATS, directory: Path, database_url: str) -> Manifest:
    created = datetime.now(UTC)
    postgres = await asyncio.to_thread(dump_postgres, database_url, directory)
    _say(
        f"PostgreSQL {postgres.server_version}: {postgres.file.path}"
        f" ({postgres.file.bytes} bytes, schemas {', '.join(postgres.schemas) or 'none'})"
    )
    parts: list[StreamPart] = []
    absent: list[str] = []
    for spec in ALL_STREAMS:
        target = directory / STREAMS_DIR / f"{spec.name}.snapshot"
        taken = datetime.now(UTC)
        snapshot = await snapshot_stream(nc, spec.name, target)
        if snapshot is None:
            target.unlink(missing_ok=True)
            absent.append(spec.name)
            _say(f"stream {spec.name}: absent on the server, nothing to back up")
            continue
        config, state = snapshot
        part = StreamPart(
            name=spec.name,
            file=file_entry(directory, target),
            config=config,
            state=state,
            taken_at=taken,
        )
        parts.append(part)
        _say(f"stream {spec.name}: {_describe(state)}")
    manifest = Manifest(
        format=FORMAT,
        created_at=created,
        finished_at=datetime.now(UTC),
        postgres=postgres,
        streams=parts,
        absent_streams=absent,
    )
    write_manifest(directory, manifest)
    _say(f"backup complete: {directory / MANIFEST}")
    return manifest


def _describe(state: dict[str, Any]) -> str:
    return (
        f"{state.get('messages', 0)} messages, #{state.get('first_seq', 0)}"
        f"..#{state.get('last_seq', 0)}, {state.get('num_deleted', 0)} deleted,"
        f" {state.get('bytes', 0)} bytes"
    )


async def _refuse_non_empty(nc: NATS, database_url: str, names: Iterable[str]) -> None:
    _, _, schemas = await asyncio.to_thread(describe_server, database_url)
    present = [name for name in names if await stream_state(nc, name) is not None]
    problems = []
    if schemas:
        problems.append(f"the database already has the schemas {', '.join(schemas)}")
    if present:
        problems.append(f"JetStream already has the streams {', '.join(present)}")
    if problems:
        raise Refused(
            "; ".join(problems)
            + ". Restore into an empty database and an empty JetStream, with the services"
            " stopped (they create their schemas and streams when they start)"
        )


async def _restore_streams(nc: NATS, directory: Path, manifest: Manifest) -> None:
    """Every stream of the manifest, each checked against the state it records."""
    mismatched = []
    for part in manifest.streams:
        await restore_stream(nc, directory, part)
        state = await stream_state(nc, part.name) or {}
        differences = state_differences(part.state, state)
        if differences:
            mismatched.append(f"{part.name}: {', '.join(differences)}")
        _say(f"stream {part.name} restored: {_describe(state)}")
    if mismatched:
        raise Failed("restored streams differ from the manifest: " + "; ".join(mismatched))


async def restore(directory: Path, nats_url: str, database_url: str) -> Manifest:
    """Verify, refuse a non-empty target, then PostgreSQL, the streams, the outbox rows."""
    manifest = verify_backup(directory)
    nc = await connect(nats_url)
    try:
        await _refuse_non_empty(nc, database_url, [part.name for part in manifest.streams])
        _, major, _ = await asyncio.to_thread(
            pg_tool, "pg_restore", manifest.postgres.pg_dump_major
        )
        await asyncio.to_thread(restore_postgres, database_url, directory, manifest.postgres)
        _say(
            f"PostgreSQL restored from {manifest.postgres.file.path} (pg_restore {major}):"
            f" schemas {', '.join(manifest.postgres.schemas) or 'none'}"
        )
        try:
            await _restore_streams(nc, directory, manifest)
        except Failed as exc:
            raise Failed(
                f"{exc}. The database is restored, the streams not (all): drop its schemas"
                " and the restored streams before trying again"
            ) from None
        reconciled = await reconcile_outboxes(nc, database_url, manifest)
        if reconciled:
            _say(
                f"{reconciled} outbox rows reached their stream during the backup: marked published"
            )
        _say(
            "restore complete: run `make rebuild-ranking` and `make rebuild-incentives`,"
            " then start the services"
        )
        return manifest
    finally:
        await nc.close()
