"""What every projection rebuild does first (ranking's and incentives' ``rebuild`` commands):
refuse while the service's outbox still holds events (dropping the schema would lose them),
then drop the service's schema and migrate it afresh."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

from .migrations import migrate


async def refuse_pending_outbox(url: str, schema: str) -> None:
    """Exit (``SystemExit``, message on stderr) if ``schema``'s outbox holds unpublished
    events; nothing to refuse before the first migration."""
    outbox = sql.Identifier(schema, "outbox")
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.outbox",))
        row = await cur.fetchone()
        if not row or not row[0]:
            return
        cur = await conn.execute(
            sql.SQL(
                "SELECT count(*) FROM {} WHERE published_at IS NULL AND parked_at IS NULL"
            ).format(outbox)
        )
        pending = await cur.fetchone()
        if pending and pending[0]:
            owner = f"{schema}'" if schema.endswith("s") else f"{schema}'s"
            raise SystemExit(
                f"rebuild refused: {pending[0]} events in {owner} outbox are not published"
                " yet; start the service until they are, then stop it and retry"
            )


async def drop_and_migrate(url: str, schema: str, migrations: Path) -> None:
    """Drop ``schema`` with everything in it and apply its migrations from the first."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
    await migrate(url, schema, migrations)
