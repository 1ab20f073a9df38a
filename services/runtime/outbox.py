"""Transactional outbox: stage events in the state-changing transaction, publish them after.

At-least-once: a crash after the publish and before the row is marked leaves the row to be
published again; the same ``Nats-Msg-Id`` (the event id) lets JetStream drop it inside its
duplicate window, and idempotent consumers drop it after.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row

from services.contracts.base import to_wire
from services.contracts.envelope import Event
from services.runtime.db import Conn, Pool

from . import metrics
from .background import Loop
from .faults import Faults

log = logging.getLogger(__name__)

# One outgoing row of the outbox: (subject, payload, Nats-Msg-Id).
Outgoing = tuple[str, bytes, str]
# publish(rows, before_send) -> for each row, in order, its stream sequence or why it was not
# stored; before_send() runs just before each message is sent (broker.Bus.publish_events)
Publish = Callable[[Sequence[Outgoing], Callable[[], None]], Awaitable[list[int | Exception]]]

BATCH = 100  # rows per flush
# After a batch that was not full, the relay flushes again at the next poke, or after this long
# for rows that other replicas committed meanwhile (they poke their own relay, which may have
# stood by for this one). Flushing again at once would mostly find nothing, and at a steady
# trickle that empty flush (four round trips) cost as much as the one that published.
RECHECK_SECONDS = 0.02


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

    def __init__(
        self,
        pool: Pool,
        publish: Publish,
        poll_seconds: float,
        name: str,
        max_attempts: int = 20,
        faults: Faults | None = None,
        in_flight: int = 1,
    ) -> None:
        self._pool = pool
        self._faults = faults or Faults()  # test-only crash points (runtime/faults.py)
        self._key = int.from_bytes(
            hashlib.sha256(f"outbox:{name}".encode()).digest()[:8], "big", signed=True
        )
        self._max_attempts = max_attempts
        self._publish = publish
        self._poll = poll_seconds
        # Publishes sent before their acknowledgements are awaited (`flush`).
        self._in_flight = max(1, in_flight)
        # The database away: keep the rows and try again after a second.
        self._loop = Loop(
            "outbox-relay",
            self._step,
            poll_seconds,
            failure="outbox relay failed; retrying",
            retry_seconds=1.0,
        )

    def poke(self) -> None:
        """Publish soon: a use case just committed outbox rows."""
        self._loop.poke()

    async def flush(self, limit: int = BATCH) -> int:
        """Publish one batch in id order; returns how many rows were published.

        Rows go out ``in_flight`` at a time: all of a window are sent, then their
        acknowledgements awaited together (one round trip, not one per row: on a busy machine
        each round trip waits for the CPU, and one at a time a backlog of 50 rows took a
        second). A failed publish is recorded on its row (attempts, error, next attempt) and
        ends the batch, so that later rows wait for it; rows already published stay marked,
        including those of its window that the stream stored after it. Those overtook it (a
        publish refused while later ones were stored, or lost with a dropped connection while
        later ones waited in the client's reconnect buffer): with an ``in_flight`` of 1 none
        ever does, which services whose consumers depend on the stream's order keep (R6.2
        settles editions in stream order). The marks are written together at the end of the
        batch (one statement, not one per row): they commit in the same transaction either way.
        """
        marks: list[tuple[int, int]] = []  # (row id, stream sequence)
        # Pipeline mode: BEGIN goes with the SELECT and the marks with COMMIT, two round trips
        # to PostgreSQL a flush instead of five (each one a wake-up of the relay on a busy
        # machine, on every event's way to the stream).
        async with self._pool.connection() as conn, conn.pipeline(), conn.transaction():
            # One relay of the service publishes at a time, so the stream holds the events in
            # outbox order (R6.2 settles editions in stream order); the others stand by (their
            # lock is not granted: they select nothing).
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT o.id, o.event_id, o.subject, o.payload, o.attempts,"
                " o.next_attempt_at <= now() AS due"
                " FROM (SELECT pg_try_advisory_xact_lock(%s) AS mine) AS relay"
                " CROSS JOIN LATERAL (SELECT * FROM outbox WHERE relay.mine"
                " AND published_at IS NULL AND parked_at IS NULL"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) AS o",
                (self._key, limit),
            )
            rows = await cur.fetchall()
            due = next((i for i, row in enumerate(rows) if not row["due"]), len(rows))
            for start in range(0, due, self._in_flight):
                window = rows[start : min(due, start + self._in_flight)]
                if not await self._publish_window(conn, window, marks):
                    break
            if marks:
                await conn.execute(
                    "UPDATE outbox SET published_at = now(), stream_seq = mark.seq"
                    " FROM unnest(%s::bigint[], %s::bigint[]) AS mark (id, seq)"
                    " WHERE outbox.id = mark.id",
                    ([row_id for row_id, _ in marks], [seq for _, seq in marks]),
                )
        metrics.OUTBOX_PUBLISHED.inc(len(marks))
        return len(marks)

    async def _publish_window(
        self, conn: Conn, window: list[dict[str, Any]], marks: list[tuple[int, int]]
    ) -> bool:
        """Publish ``window``'s rows and add the stored ones to ``marks``; False if one failed
        (recorded on the first that did)."""
        outgoing: list[Outgoing] = [
            (r["subject"], bytes(r["payload"]), str(r["event_id"])) for r in window
        ]
        # Before each send: the window's earlier rows may be on their way, unacknowledged.
        before_send = functools.partial(self._faults.point, "crash_after_commit_before_publish")
        results = await self._publish(outgoing, before_send)
        failed: tuple[dict[str, Any], Exception] | None = None
        for row, result in zip(window, results, strict=True):
            if isinstance(result, Exception):
                failed = failed or (row, result)
                continue
            self._faults.point("crash_after_publish_before_mark")
            marks.append((row["id"], result))
        if failed is not None:
            row, exc = failed
            await self._record_failure(conn, row["id"], row["attempts"] + 1, exc)
        return failed is None

    async def _record_failure(self, conn: Conn, row_id: int, attempts: int, exc: Exception) -> None:
        park = attempts >= self._max_attempts
        delay = min(2.0**attempts, 300.0)
        await conn.execute(
            "UPDATE outbox SET attempts = %s, last_error = %s,"
            " next_attempt_at = now() + make_interval(secs => %s),"
            " parked_at = CASE WHEN %s THEN now() END WHERE id = %s",
            (attempts, repr(exc)[:2000], delay, park, row_id),
        )
        if park:
            metrics.OUTBOX_PARKED.inc()
            log.error("outbox row parked", extra={"row": row_id, "error": repr(exc)})
        else:
            log.warning(
                "outbox publish failed; will retry",
                extra={"row": row_id, "attempts": attempts, "delay": delay},
            )

    async def _step(self) -> float | None:
        published = await self.flush()
        if published >= BATCH:
            return 0  # a full batch: the backlog goes on at once
        return None if published == 0 else min(self._poll, RECHECK_SECONDS)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
