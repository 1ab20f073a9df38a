"""PostgreSQL storage of listings, streaks, talks and deliveries (the ``notify`` schema)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from services.runtime.db import Conn, columns

from .domain.escalation import EditionKey, EscalationState, Listing, TalkLevel
from .domain.notices import PlannedNotice
from .domain.talks import CANCELLABLE

LIST_LIMIT = 500

# -- escalation state (R5.3) -----------------------------------------------------------------


async def load_escalation(conn: Conn) -> EscalationState:
    """The fold's state, locked: editions are applied one at a time (also across replicas)."""
    await conn.execute("LOCK TABLE listings IN SHARE ROW EXCLUSIVE MODE")
    cur = await conn.execute("SELECT * FROM listings ORDER BY year, number")
    return EscalationState(
        tuple(
            Listing(
                edition=EditionKey(year=row["year"], number=row["number"]),
                revision=row["revision"],
                red=frozenset(row["red"]),
                black=frozenset(row["black"]),
            )
            for row in await cur.fetchall()
        )
    )


async def save_listing(conn: Conn, listing: Listing) -> None:
    await conn.execute(
        "INSERT INTO listings (year, number, revision, red, black) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (year, number) DO UPDATE SET revision = EXCLUDED.revision,"
        " red = EXCLUDED.red, black = EXCLUDED.black",
        (
            listing.edition.year,
            listing.edition.number,
            listing.revision,
            sorted(listing.red),
            sorted(listing.black),
        ),
    )


async def save_streaks(conn: Conn, state: EscalationState) -> None:
    """Replace the per-unit k projection with the fold's answer after the latest edition."""
    await conn.execute("DELETE FROM streaks")
    if not state.listings:
        return
    last = state.listings[-1].edition
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO streaks (unit_id, k, through_year, through_number)"
            " VALUES (%s, %s, %s, %s)",
            [(u, k, last.year, last.number) for u, k in sorted(state.streaks().items())],
        )


# -- talks (R5.3) ----------------------------------------------------------------------------


async def order_talk(conn: Conn, notice: PlannedNotice, k: int, at: datetime) -> None:
    """R5.3: record the talk a black listing ordered (a held talk stays as it was)."""
    edition = notice.edition
    assert edition is not None
    await conn.execute(
        "INSERT INTO talks (unit_id, year, number, revision, k, level, status, ordered_at,"
        " updated_at) VALUES (%s, %s, %s, %s, %s, %s, 'ordered', %s, %s)"
        " ON CONFLICT (unit_id, year, number) DO UPDATE SET revision = EXCLUDED.revision,"
        " k = EXCLUDED.k, level = EXCLUDED.level, status = 'ordered', scheduled_for = NULL,"
        " held_on = NULL, minutes = NULL, updated_at = EXCLUDED.updated_at"
        " WHERE talks.status <> 'held'",
        (
            notice.recipient.unit_id,
            edition.year,
            edition.number,
            notice.revision,
            k,
            str(notice.talk_level),
            at,
            at,
        ),
    )


async def cancel_talk(conn: Conn, unit_id: str, edition: EditionKey, at: datetime) -> None:
    """R5.3: a correction cancels the talk it had ordered, unless it was already held."""
    await conn.execute(
        "UPDATE talks SET status = 'cancelled', updated_at = %s"
        " WHERE unit_id = %s AND year = %s AND number = %s AND status = ANY(%s)",
        (at, unit_id, edition.year, edition.number, sorted(CANCELLABLE)),
    )


async def list_talks(conn: Conn, unit_id: str | None, level: TalkLevel | None) -> list[Any]:
    cur = await conn.execute(
        "SELECT talk_id, unit_id, year, number, revision, k, level, status, ordered_at,"
        " scheduled_for, held_on, minutes, updated_at"
        " FROM talks WHERE (%(unit)s::text IS NULL OR unit_id = %(unit)s)"
        " AND (%(level)s::text IS NULL OR level = %(level)s)"
        " ORDER BY ordered_at DESC, unit_id LIMIT %(limit)s",
        {"unit": unit_id, "level": None if level is None else str(level), "limit": LIST_LIMIT},
    )
    return list(await cur.fetchall())


# -- deliveries ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedDelivery:
    """One (notice, channel) to send, with the message it sends; or recorded as not sent, with
    the reason (``skipped``)."""

    delivery_id: UUID
    event_id: UUID
    notice: PlannedNotice
    channel: str
    payload: dict[str, Any]
    skipped: str | None = None


async def plan_deliveries(conn: Conn, planned: list[PlannedDelivery], at: datetime) -> None:
    """Insert the deliveries, pending or skipped, in one statement, each column an array in
    binary format (`runtime.db.columns`); a (notice, channel) already planned is left as it
    is."""
    if not planned:
        return
    rows = [
        (
            p.delivery_id,
            p.event_id,
            p.notice.key,
            str(p.notice.type),
            str(p.notice.recipient),
            p.notice.recipient.unit_id,
            p.channel,
            None if p.notice.edition is None else p.notice.edition.year,
            None if p.notice.edition is None else p.notice.edition.number,
            p.notice.revision,
            p.notice.about,
            Jsonb(p.payload),
            "pending" if p.skipped is None else "skipped",
            p.skipped,
        )
        for p in planned
    ]
    await conn.execute(
        "INSERT INTO deliveries (delivery_id, event_id, notice_key, notice_type, recipient,"
        " unit_id, channel, year, number, revision, about, payload, status, last_error,"
        " next_attempt_at, created_at, updated_at)"
        " SELECT *, %s, %s, %s FROM unnest(%b::uuid[], %b::uuid[], %b::text[], %b::text[],"
        " %b::text[], %b::text[], %b::text[], %b::int[], %b::int[], %b::int[], %b::text[],"
        " %b::jsonb[], %b::text[], %b::text[])"
        " ON CONFLICT (notice_key, channel) DO NOTHING",
        [at, at, at, *columns(rows)],
    )


async def claim_due(conn: Conn, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Due pending deliveries, locked for this transaction; other replicas skip them."""
    cur = await conn.execute(
        "SELECT d.delivery_id, d.notice_type, d.recipient, d.channel, d.payload, d.attempts,"
        " d.chain_attempts, d.resends, c.kind, c.url, c.secret FROM deliveries d"
        " LEFT JOIN channels c ON c.channel = d.channel"
        " WHERE d.status = 'pending' AND d.next_attempt_at <= %s"
        " ORDER BY d.next_attempt_at, d.delivery_id LIMIT %s FOR UPDATE OF d SKIP LOCKED",
        (now, limit),
    )
    return list(await cur.fetchall())


async def record_attempt(
    conn: Conn,
    delivery_id: UUID,
    *,
    channel: str,
    attempt: int,
    chain_attempt: int,
    at: datetime,
    status: str,
    outcome: str,
    status_code: int | None,
    detail: str,
    next_attempt_at: datetime,
    pace_key: str | None = None,
) -> None:
    """Log one attempt (with the robot's ``pace_key``, the rate limit's identity) and move the
    delivery to its new status."""
    await conn.execute(
        "INSERT INTO delivery_attempts (delivery_id, attempt, at, outcome, status_code, detail,"
        " channel, pace_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (delivery_id, attempt, at, outcome, status_code, detail, channel, pace_key),
    )
    await conn.execute(
        "UPDATE deliveries SET status = %s, attempts = %s, chain_attempts = %s,"
        " next_attempt_at = %s, last_error = %s, updated_at = %s WHERE delivery_id = %s",
        (
            status,
            attempt,
            chain_attempt,
            next_attempt_at,
            None if status == "delivered" else detail,
            at,
            delivery_id,
        ),
    )


async def mark_skipped(conn: Conn, delivery_ids: list[UUID], reason: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE deliveries SET status = 'skipped', last_error = %s, updated_at = %s"
        " WHERE delivery_id = ANY(%s)",
        (reason, at, delivery_ids),
    )


async def postpone(conn: Conn, delivery_id: UUID, until: datetime) -> None:
    """Queue a delivery behind its channel's rate limit; no attempt is spent (R5)."""
    await conn.execute(
        "UPDATE deliveries SET next_attempt_at = %s WHERE delivery_id = %s", (until, delivery_id)
    )


async def send_log(conn: Conn, pace_key: str, since: datetime) -> list[datetime]:
    """When the robot ``pace_key`` was sent to since ``since``, over every channel that shares
    it: the rate limiter's input."""
    cur = await conn.execute(
        "SELECT at FROM delivery_attempts WHERE pace_key = %s AND at > %s ORDER BY at",
        (pace_key, since),
    )
    return [row["at"] for row in await cur.fetchall()]


async def lock_robot(conn: Conn, pace_key: str) -> bool:
    """One sender per paced robot at a time, across replicas (until the transaction ends)."""
    cur = await conn.execute(
        "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0)) AS mine", (f"pace:{pace_key}",)
    )
    row = await cur.fetchone()
    return bool(row and row["mine"])


async def dead_letter(
    conn: Conn, row: dict[str, Any], attempts: int, reason: str, at: datetime
) -> None:
    """A delivery given up after its attempts (R5)."""
    await conn.execute(
        "INSERT INTO dead_letters (delivery_id, notice_type, recipient, channel, attempts, reason,"
        " failed_at) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (delivery_id) DO UPDATE"
        " SET attempts = EXCLUDED.attempts, reason = EXCLUDED.reason,"
        " failed_at = EXCLUDED.failed_at, resent_at = NULL",
        (
            row["delivery_id"],
            row["notice_type"],
            row["recipient"],
            row["channel"],
            attempts,
            reason,
            at,
        ),
    )


async def resend(conn: Conn, delivery_id: UUID, at: datetime) -> dict[str, Any] | None:
    """Start a new attempt chain (with a webhook-id of its own); None if there is no such
    notification or it is still pending."""
    cur = await conn.execute(
        "UPDATE deliveries SET status = 'pending', chain_attempts = 0, resends = resends + 1,"
        " next_attempt_at = %s, updated_at = %s WHERE delivery_id = %s AND status <> 'pending'"
        " RETURNING delivery_id AS notification_id, status, resends",
        (at, at, delivery_id),
    )
    row = await cur.fetchone()
    if row is not None:
        await conn.execute(
            "UPDATE dead_letters SET resent_at = %s WHERE delivery_id = %s", (at, delivery_id)
        )
    return row


async def delivery_exists(conn: Conn, delivery_id: UUID) -> bool:
    cur = await conn.execute("SELECT 1 FROM deliveries WHERE delivery_id = %s", (delivery_id,))
    return await cur.fetchone() is not None


async def list_notifications(
    conn: Conn, unit_id: str | None, notice_type: str | None, status: str | None
) -> list[Any]:
    """Newest first, at most ``LIST_LIMIT`` rows."""
    cur = await conn.execute(
        "SELECT delivery_id AS notification_id, notice_type, recipient, unit_id, channel, year,"
        " number, revision, about, resends, status, attempts, next_attempt_at, last_error,"
        " created_at, updated_at, payload->>'title' AS title, payload->>'text' AS text,"
        " payload->'key_numbers' AS key_numbers FROM deliveries"
        " WHERE (%(unit)s::text IS NULL OR unit_id = %(unit)s)"
        " AND (%(type)s::text IS NULL OR notice_type = %(type)s)"
        " AND (%(status)s::text IS NULL OR status = %(status)s)"
        " ORDER BY created_at DESC, notice_key LIMIT %(limit)s",
        {"unit": unit_id, "type": notice_type, "status": status, "limit": LIST_LIMIT},
    )
    return list(await cur.fetchall())
