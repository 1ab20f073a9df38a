"""JetStream's part of a backup: the stream snapshot and restore protocol
(``$JS.API.STREAM.SNAPSHOT`` / ``RESTORE``, as ``nats stream backup`` / ``restore`` speak it) and
the comparison of a restored stream's state with the manifest's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NATS

from tools.backup.errors import Failed
from tools.backup.manifest import StreamPart

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


async def connect(url: str) -> NATS:
    """A connection to NATS at ``url``, or `Failed` (without the URL, which may hold a password)."""
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
