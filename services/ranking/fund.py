"""Ranking's small projection of the fund (R6) for the board page: ``incentives.v1.allocated``
as received, each settlement recorded once. Incentives owns the money; nothing is recomputed
here, the board only shows what was booked (allocated vs remaining, fen per unit)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.contracts.incentives import Allocated
from services.runtime.db import Conn

FUND_CONSUMER = "ranking-fund"

_SETTLEMENT_SQL = (
    "INSERT INTO fund_settlements (event_id, year, edition, revision, pool, fund,"
    " allocated_total, remaining, occurred_at, stream_seq) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
    " ON CONFLICT DO NOTHING"
)
_AWARD_SQL = (
    "INSERT INTO fund_awards (year, edition, revision, unit_id, kind, fen)"
    " VALUES (%s,%s,%s,%s,%s,%s)"
)


async def record_allocation(conn: Conn, event: Allocated, seq: int | None) -> bool:
    """Store one settlement and its awards; False when this event id or this edition revision
    is already recorded (a redelivery or a republication: R6.4 books a revision once)."""
    cur = await conn.execute(
        _SETTLEMENT_SQL,
        (
            event.event_id,
            event.year,
            event.edition,
            event.revision,
            event.pool,
            event.fund,
            event.allocated_total,
            event.remaining,
            event.occurred_at,
            seq,
        ),
    )
    if cur.rowcount != 1:
        return False
    per_unit: dict[tuple[str, str], int] = defaultdict(int)
    for award in event.awards:
        per_unit[award.unit_id, award.kind] += award.fen
    key = (event.year, event.edition, event.revision)
    async with conn.cursor() as awards:
        await awards.executemany(
            _AWARD_SQL, [(*key, unit, kind, fen) for (unit, kind), fen in per_unit.items()]
        )
    return True


async def fund_of_year(conn: Conn, year: int) -> dict[str, Any] | None:
    """The year's balance after its latest settlement (in stream order) and the net fen booked
    per unit (allocations plus adjustments), largest first; None before any settlement."""
    cur = await conn.execute(
        "SELECT fund, allocated_total, remaining, edition, revision, occurred_at,"
        " (SELECT count(DISTINCT edition) FROM fund_settlements WHERE year = %s) AS editions"
        " FROM fund_settlements WHERE year = %s"
        " ORDER BY stream_seq DESC NULLS LAST, occurred_at DESC LIMIT 1",
        (year, year),
    )
    latest = await cur.fetchone()
    if latest is None:
        return None
    cur = await conn.execute(
        "SELECT unit_id, SUM(fen)::bigint AS fen FROM fund_awards WHERE year = %s"
        " GROUP BY unit_id HAVING SUM(fen) <> 0 ORDER BY SUM(fen) DESC, unit_id",
        (year,),
    )
    units = [{"unit_id": r["unit_id"], "fen": int(r["fen"])} for r in await cur.fetchall()]
    return {
        "year": year,
        "fund_fen": int(latest["fund"]),
        "allocated_fen": int(latest["allocated_total"]),
        "remaining_fen": int(latest["remaining"]),
        "editions_settled": int(latest["editions"]),
        "last_settlement": {"edition": latest["edition"], "revision": latest["revision"]},
        "units": units,
    }
