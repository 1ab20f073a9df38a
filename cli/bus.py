"""NATS JetStream for the ops views: stream and consumer state, dead letters, replay.

Reads use the stream API (no consumer is created); a replay publishes the original payload to
its original subject with a new ``Nats-Msg-Id``, so JetStream stores it as a new message and
delivers it to the consumers of that subject again (they are idempotent per ``event_id``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from cli.errors import CliError
from services.contracts.streams import DLQ

T = TypeVar("T")
CONNECT_TIMEOUT = 3.0


@dataclass(frozen=True)
class ConsumerState:
    stream: str
    name: str
    pending: int  # not yet delivered
    ack_pending: int  # delivered, not acknowledged
    redelivered: int


@dataclass(frozen=True)
class StreamState:
    name: str
    messages: int
    first_seq: int
    last_seq: int
    consumers: list[ConsumerState] = field(default_factory=list)


@dataclass(frozen=True)
class DeadLetterEntry:
    """A message of the DLQ stream: its own sequence and subject, and the dead letter."""

    seq: int
    subject: str
    letter: dict[str, Any]


@dataclass(frozen=True)
class Replayed:
    dlq_seq: int
    subject: str
    stream: str
    seq: int


def run(nats_url: str, job: Callable[[Client], Awaitable[T]]) -> T:
    """Connect, run ``job``, close; an unreachable server is a one-line `CliError`."""
    return asyncio.run(_with_connection(nats_url, job))


async def _with_connection(nats_url: str, job: Callable[[Client], Awaitable[T]]) -> T:
    async def quiet(_: Exception) -> None:
        pass

    refused = _refused(nats_url)
    if refused:
        raise CliError(
            f"NATS is down or unreachable at {_safe(nats_url)} ({refused});"
            " pass --nats-url or start it with `make run`"
        )
    try:
        # nats-py can wait forever on a refused port without reconnects: bound it here.
        nc = await asyncio.wait_for(
            nats.connect(
                nats_url,
                connect_timeout=CONNECT_TIMEOUT,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                error_cb=quiet,
            ),
            CONNECT_TIMEOUT + 2,
        )
    except Exception as exc:
        raise CliError(
            f"NATS is down or unreachable at {_safe(nats_url)} ({type(exc).__name__});"
            " pass --nats-url or start it with `make run`"
        ) from None
    try:
        return await job(nc)
    except TimeoutError:
        raise CliError(f"NATS at {_safe(nats_url)} did not answer (JetStream enabled?)") from None
    finally:
        await nc.close()


def _refused(nats_url: str) -> str | None:
    """Why a single-server URL cannot be reached over TCP, at once; None when it can (or
    when the URL lists several servers: the client tries them)."""
    if "," in nats_url:
        return None
    parsed = urlsplit(nats_url if "://" in nats_url else f"nats://{nats_url}")
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 4222), 2):
            return None
    except ConnectionRefusedError:
        return "connection refused"
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _safe(url: str) -> str:
    """The URL without credentials (they may be in it)."""
    scheme, sep, rest = url.partition("://")
    return scheme + sep + rest.rpartition("@")[2] if sep else url.rpartition("@")[2]


async def streams(nc: Client) -> list[StreamState]:
    """Every stream with its message count and its consumers' backlog."""
    jsm = nc.jsm()
    found = []
    for info in await jsm.streams_info():
        name = str(info.config.name)
        consumers = [
            ConsumerState(
                stream=name,
                name=str(c.name),
                pending=int(c.num_pending or 0),
                ack_pending=int(c.num_ack_pending or 0),
                redelivered=int(c.num_redelivered or 0),
            )
            for c in await jsm.consumers_info(name)
        ]
        state = info.state
        found.append(
            StreamState(
                name=name,
                messages=int(state.messages),
                first_seq=int(state.first_seq),
                last_seq=int(state.last_seq),
                consumers=sorted(consumers, key=lambda c: c.name),
            )
        )
    return sorted(found, key=lambda s: s.name)


async def dead_letters(
    nc: Client, service: str | None, limit: int, from_seq: int = 1
) -> tuple[list[DeadLetterEntry], int]:
    """Up to ``limit`` dead letters from ``from_seq`` on (of one service or all), and how many
    messages the DLQ stream holds."""
    jsm = nc.jsm()
    try:
        info = await jsm.stream_info(DLQ.name)
    except NotFoundError:
        return [], 0
    subject = f"dlq.{service}" if service else "dlq.>"
    entries: list[DeadLetterEntry] = []
    seq = max(from_seq, int(info.state.first_seq))
    while len(entries) < limit and seq <= int(info.state.last_seq):
        try:
            msg = await jsm.get_msg(DLQ.name, seq=seq, subject=subject, next=True)
        except NotFoundError:
            break
        entries.append(_entry(int(msg.seq or seq), str(msg.subject), msg.data or b""))
        seq = int(msg.seq or seq) + 1
    return entries, int(info.state.messages)


async def dead_letter(nc: Client, seq: int) -> DeadLetterEntry:
    try:
        msg = await nc.jsm().get_msg(DLQ.name, seq=seq)
    except NotFoundError:
        raise CliError(f"no dead letter at DLQ sequence {seq}") from None
    return _entry(seq, str(msg.subject), msg.data or b"")


def _entry(seq: int, subject: str, data: bytes) -> DeadLetterEntry:
    try:
        letter = json.loads(data)
    except ValueError:
        letter = {"reason": "(not a dead letter: not JSON)", "payload": ""}
    return DeadLetterEntry(seq=seq, subject=subject, letter=letter)


async def original_payload(nc: Client, entry: DeadLetterEntry) -> bytes:
    """The payload to replay: from the dead letter, or from its stream when it was cut."""
    letter = entry.letter
    if letter.get("payload_truncated"):
        stream, seq = letter.get("stream"), letter.get("stream_sequence")
        if not stream or not seq:
            raise CliError(f"dead letter {entry.seq}: truncated and no original position")
        msg = await nc.jsm().get_msg(str(stream), seq=int(seq))
        return msg.data or b""
    payload = str(letter.get("payload", ""))
    if letter.get("payload_encoding") == "base64":
        return base64.b64decode(payload)
    return payload.encode("utf-8")


async def replay(nc: Client, entry: DeadLetterEntry) -> Replayed:
    subject = str(entry.letter.get("original_subject") or "")
    if not subject or not entry.letter.get("stream"):
        raise CliError(
            f"dead letter {entry.seq} ({subject or 'no subject'}) was not read from a stream"
            " (a command request?): there is nothing to replay it onto"
        )
    payload = await original_payload(nc, entry)
    ack = await nc.jetstream().publish(
        subject, payload, headers={"Nats-Msg-Id": f"replay-{uuid.uuid4()}"}
    )
    return Replayed(dlq_seq=entry.seq, subject=subject, stream=ack.stream, seq=ack.seq)
