"""PostgreSQL storage of the re-inspection draws (R2.5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.runtime.db import Conn


async def draw_exists(conn: Conn, day: Any) -> bool:
    cur = await conn.execute("SELECT 1 FROM reinspection_draws WHERE draw_date = %s", (day,))
    return await cur.fetchone() is not None


async def rectified_between(conn: Conn, start: datetime, end: datetime) -> list[UUID]:
    """R2.5: the issues whose rectification occurred in ``[start, end)``."""
    cur = await conn.execute(
        "SELECT DISTINCT issue_id FROM issue_history"
        " WHERE kind = 'rectified' AND at >= %s AND at < %s",
        (start, end),
    )
    return [row["issue_id"] for row in await cur.fetchall()]


async def save_draw(
    conn: Conn, day: Any, seed: str, share: str, population: int, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO reinspection_draws (draw_date, seed, share, population, drawn_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (day, seed, share, population, at),
    )


async def add_reinspection(
    conn: Conn, day: Any, issue_id: UUID, source: str, by: str, reason: str, at: datetime
) -> None:
    """Drawn or added by hand; an issue already on the day's list stays as it was."""
    await conn.execute(
        "INSERT INTO reinspections (draw_date, issue_id, source, added_by, reason, added_at)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (day, issue_id, source, by, reason, at),
    )


async def reinspections_of(conn: Conn, day: Any) -> dict[str, Any]:
    cur = await conn.execute("SELECT * FROM reinspection_draws WHERE draw_date = %s", (day,))
    made = await cur.fetchone()
    cur = await conn.execute(
        "SELECT r.issue_id, i.number, i.unit_id, r.source, r.added_by, r.reason"
        " FROM reinspections r JOIN issues i USING (issue_id)"
        " WHERE r.draw_date = %s ORDER BY r.source, i.number",
        (day,),
    )
    return {
        "date": str(day),
        "seed": made["seed"] if made else None,
        "share": made["share"] if made else None,
        "population": made["population"] if made else None,
        "issues": [{**row, "issue_id": str(row["issue_id"])} for row in await cur.fetchall()],
    }
