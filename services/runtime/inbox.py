"""Idempotent consumer: record each applied event id in the transaction that applies it."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from .db import Conn, columns


async def first_delivery(
    conn: Conn, consumer: str, event_id: UUID, subject: str, stream_seq: int | None
) -> bool:
    """True if ``consumer`` has not applied ``event_id`` yet; records it as applied.

    Call inside the transaction that applies the event: if that transaction rolls back, the
    record goes with it and a redelivery is applied normally.
    """
    cur = await conn.execute(
        "INSERT INTO processed_events (consumer, event_id, subject, stream_seq)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (consumer, event_id, subject, stream_seq),
    )
    return cur.rowcount == 1


async def first_deliveries(
    conn: Conn, consumer: str, deliveries: Sequence[tuple[UUID, str, int | None]]
) -> set[UUID]:
    """`first_delivery` for a batch of (event id, subject, stream sequence): the ids ``consumer``
    had not applied yet, now recorded as applied (an id twice in the batch counts once)."""
    if not deliveries:
        return set()
    cur = await conn.execute(
        "INSERT INTO processed_events (consumer, event_id, subject, stream_seq)"
        " SELECT %s, * FROM unnest(%b::uuid[], %b::text[], %b::bigint[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        (consumer, *columns(deliveries)),
    )
    return {row["event_id"] for row in await cur.fetchall()}


async def prune_processed(conn: Conn, older_than_days: int) -> int:
    """Forget applied ids far past JetStream's redelivery horizon (never inside it)."""
    cur = await conn.execute(
        "DELETE FROM processed_events WHERE processed_at < now() - make_interval(days => %s)",
        (older_than_days,),
    )
    return cur.rowcount
