"""Transactional outbox: stage events in the state-changing transaction, publish them after.

At-least-once: a crash after the publish and before the row is marked leaves the row to be
published again; the same ``Nats-Msg-Id`` (the event id) lets JetStream drop it inside its
duplicate window, and idempotent consumers drop it after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from uuid import UUID

from psycopg.rows import dict_row

from services.contracts.base import to_wire
from services.contracts.envelope import Event
from services.runtime.db import Conn, Pool

from . import metrics

log = logging.getLogger(__name__)

# publish(subject, payload, msg_id) -> stream sequence of the stored message
Publish = Callable[[str, bytes, str], Awaitable[int]]


async def stage(conn: Conn, events: Iterable[Event]) -> None:
    """Write ``events`` to the outbox inside the caller's transaction."""
    for event in events:
        await conn.execute(
            "INSERT INTO outbox (event_id, subject, payload) VALUES (%s, %s, %s)",
            (event.event_id, event.SUBJECT, to_wire(event)),
        )


async def stage_raw(conn: Conn, event_id: UUID, subject: str, payload: bytes) -> None:
    """Stage bytes that are already canonical JSON (R7: published exactly as computed)."""
    await conn.execute(
        "INSERT INTO outbox (event_id, subject, payload) VALUES (%s, %s, %s)",
        (event_id, subject, payload),
    )


class OutboxRelay:
    """Publishes unpublished outbox rows in id order; several replicas may run one each
    (``FOR UPDATE SKIP LOCKED`` keeps them off each other's rows)."""

    def __init__(self, pool: Pool, publish: Publish, poll_seconds: float) -> None:
        self._pool = pool
        self._publish = publish
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """Publish soon: a use case just committed outbox rows."""
        self._wake.set()

    async def flush(self, limit: int = 200) -> int:
        """Publish one batch; returns how many rows were published."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id, event_id, subject, payload FROM outbox WHERE published_at IS NULL"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (limit,),
            )
            rows = await cur.fetchall()
            for row in rows:
                seq = await self._publish(
                    row["subject"], bytes(row["payload"]), str(row["event_id"])
                )
                await conn.execute(
                    "UPDATE outbox SET published_at = now(), stream_seq = %s WHERE id = %s",
                    (seq, row["id"]),
                )
            metrics.OUTBOX_PUBLISHED.inc(len(rows))
            return len(rows)

    async def _run(self) -> None:
        while True:
            try:
                published = await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The broker or database is away: keep the rows and try again shortly.
                log.warning("outbox relay failed; retrying", exc_info=True)
                published = 0
                await asyncio.sleep(1.0)
            if published == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)
                self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
