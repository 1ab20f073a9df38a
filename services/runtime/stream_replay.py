"""Reading a whole stream (or one subject of it) from its first message, for the rebuilds of
ranking and incentives (R7).

A read filtered on a subject knows the last sequence of that subject too, so a fetch timeout in
the middle of it is never taken for its end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from services.contracts.streams import StreamSpec

from .positions import stream_position_of

BATCH = 2000
FETCH_SECONDS = 2.0
FETCH_ATTEMPTS = 3


class ReplayIncomplete(RuntimeError):
    """The stream stopped answering before its last sequence: a rebuild from it would leave a
    truncated projection (and report differences, or worse, none)."""


async def last_sequence(js: JetStreamContext, spec: StreamSpec, subject: str | None) -> int:
    """The stream's last sequence, or that of the last message on ``subject``; 0 if none."""
    try:
        if subject is None:
            return int((await js.stream_info(spec.name)).state.last_seq)
        return int((await js.get_last_msg(spec.name, subject)).seq or 0)
    except NotFoundError:
        return 0


async def stream_messages(
    js: JetStreamContext, spec: StreamSpec, subject: str | None = None
) -> AsyncIterator[tuple[int, bytes]]:
    """(sequence, data) of every message on ``spec`` (optionally one literal subject) up to the
    last one it held when called, in stream order; an ephemeral consumer that needs no acks.

    Every message up to that last one must arrive: a fetch that times out ``FETCH_ATTEMPTS``
    times in a row before it raises `ReplayIncomplete`."""
    last = await last_sequence(js, spec, subject)
    if last == 0:
        return
    sub = await js.pull_subscribe(
        subject or ">",
        stream=spec.name,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=60.0
        ),
    )
    try:
        seq, timeouts = 0, 0
        while seq < last:
            try:
                batch = await sub.fetch(BATCH, timeout=FETCH_SECONDS)
            except TimeoutError:
                timeouts += 1
                if timeouts < FETCH_ATTEMPTS:
                    continue
                raise ReplayIncomplete(
                    f"replay of {spec.name}{f' ({subject})' if subject else ''} stopped at"
                    f" #{seq} of #{last}: no message for {FETCH_ATTEMPTS} fetches of"
                    f" {FETCH_SECONDS:g} s; nothing is rebuilt from a truncated stream, retry"
                ) from None
            timeouts = 0
            for msg in batch:
                _, seq = stream_position_of(msg)
                if seq > last:
                    return
                yield seq, msg.data
    finally:
        await sub.unsubscribe()
