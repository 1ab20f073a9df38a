"""Ranking's stored editions: every published revision exactly as published (R4.1, R7), and one
row per unit and revision for the unit history. SQL only; no rules here."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson

from services.runtime.db import Conn

from .domain.payload import payload_digest

_UNIT_COLUMNS = "year, number, revision, unit_id, category, listed, row"


async def save_edition(
    conn: Conn, message: dict[str, Any], payload: bytes, digest: str | None = None
) -> None:
    """Store one revision (its canonical bytes), its content digest (computed here unless the
    caller has it) and its per-unit rows, in the caller's transaction."""
    await conn.execute(
        "INSERT INTO editions (year, number, revision, cutoff, digest, event_id, published_at,"
        " payload, rule_version) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
        (
            message["year"],
            message["number"],
            message["revision"],
            message["cutoff"],
            digest or payload_digest(_content_and_envelope(message)),
            message["event_id"],
            message["published_at"],
            payload,
            message["rule_version"],
        ),
    )
    key = (message["year"], message["number"], message["revision"])
    units: list[str] = []
    categories: list[str] = []
    listed: list[str | None] = []
    rows: list[str] = []
    for category, board in message["categories"].items():
        red, black = set(board["red"]), set(board["black"])
        for row in board["rows"]:
            unit = row["unit_id"]
            units.append(unit)
            categories.append(category)
            listed.append("red" if unit in red else "black" if unit in black else None)
            rows.append(orjson.dumps(row, option=orjson.OPT_SORT_KEYS).decode())
    # One statement over binary arrays: up to 10,000 rows without a round trip or a COPY row
    # each. json keeps its text (migration 0005 says why it is json): keys sorted, so a row
    # reads the same whether written at publication or by a rebuild from the stored payload.
    await conn.execute(_UNIT_ROWS_SQL, (*key, units, categories, listed, rows))


_UNIT_ROWS_SQL = f"""
INSERT INTO edition_units ({_UNIT_COLUMNS})
SELECT %s, %s, %s, unit_id, category, listed, row::json
FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[]) AS u(unit_id, category, listed, row)
"""


def _content_and_envelope(message: dict[str, Any]) -> dict[str, Any]:
    """The edition payload without the event envelope: what `payload_digest` compares (R4.1)."""
    envelope = {"event_id", "type", "schema", "occurred_at", "producer", "aggregate_id"}
    return {k: v for k, v in message.items() if k not in envelope and k != "aggregate_version"}


def content_digest_of(message: dict[str, Any]) -> str:
    """R4.1: the digest a republication is compared with."""
    return payload_digest(_content_and_envelope(message))


async def latest_for_cutoff(conn: Conn, cutoff: datetime) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT * FROM editions WHERE cutoff = %s ORDER BY revision DESC LIMIT 1", (cutoff,)
    )
    return await cur.fetchone()


async def next_number(conn: Conn, year: int) -> int:
    """R4.1: sequential within the campaign year, in order of first publication."""
    cur = await conn.execute(
        "SELECT COALESCE(MAX(number), 0) + 1 AS next FROM editions WHERE year = %s", (year,)
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row["next"])


async def latest_edition(conn: Conn) -> dict[str, Any] | None:
    """The newest edition (highest year and number), at its latest revision."""
    cur = await conn.execute(
        "SELECT payload FROM editions ORDER BY year DESC, number DESC, revision DESC LIMIT 1"
    )
    return _payload(await cur.fetchone())


async def edition(
    conn: Conn, year: int, number: int, revision: int | None = None
) -> dict[str, Any] | None:
    """One edition at ``revision`` (default: its latest)."""
    cur = await conn.execute(
        "SELECT payload FROM editions WHERE year = %s AND number = %s"
        " AND (%s::int IS NULL OR revision = %s::int) ORDER BY revision DESC LIMIT 1",
        (year, number, revision, revision),
    )
    return _payload(await cur.fetchone())


async def unit_history(conn: Conn, unit_id: str) -> list[dict[str, Any]]:
    """The unit's rate, score and rank in each edition (latest revision of each), oldest
    first; editions in which it was not ranked are left out."""
    cur = await conn.execute(
        "WITH latest AS (SELECT year, number, MAX(revision) AS revision FROM editions"
        "  GROUP BY year, number)"
        " SELECT e.year, e.number, e.revision, e.cutoff, e.rule_version, u.category, u.listed,"
        "  u.row FROM latest l JOIN editions e USING (year, number, revision)"
        " JOIN edition_units u USING (year, number, revision)"
        " WHERE u.unit_id = %s ORDER BY e.cutoff, e.year, e.number",
        (unit_id,),
    )
    return list(await cur.fetchall())


async def recent_edition_rows(conn: Conn, editions: int) -> list[dict[str, Any]]:
    """The ranked rows of the ``editions`` latest-cutoff editions (latest revision of each), for
    the board's trends: edition key, cutoff, unit, category, name and counts."""
    cur = await conn.execute(
        "WITH latest AS (SELECT year, number, MAX(revision) AS revision FROM editions"
        "  GROUP BY year, number),"
        " recent AS (SELECT e.year, e.number, e.revision, e.cutoff FROM latest l"
        "  JOIN editions e USING (year, number, revision)"
        "  ORDER BY e.cutoff DESC, e.year DESC, e.number DESC LIMIT %s)"
        " SELECT r.year, r.number, r.revision, r.cutoff, u.unit_id, u.category,"
        "  u.row->>'name' AS name, (u.row->>'reported')::int AS reported,"
        "  (u.row->>'rectified')::int AS rectified"
        " FROM recent r JOIN edition_units u USING (year, number, revision)",
        (editions,),
    )
    return list(await cur.fetchall())


async def unit_names(conn: Conn) -> dict[str, dict[str, Any]]:
    """Each unit's latest name and category known to the projection (R1.2), by unit id."""
    cur = await conn.execute(
        "SELECT DISTINCT ON (unit_id) unit_id, name, category FROM unit_facts"
        " WHERE name IS NOT NULL ORDER BY unit_id, occurred_at DESC, aggregate_version DESC"
    )
    return {r["unit_id"]: r for r in await cur.fetchall()}


async def rule_versions_used(conn: Conn) -> set[str]:
    cur = await conn.execute("SELECT DISTINCT rule_version FROM editions")
    return {row["rule_version"] for row in await cur.fetchall() if row["rule_version"]}


async def claim_scheduled(conn: Conn, cutoff: datetime, year: int, number: int) -> bool:
    """R4.1: record that the scheduled cutoff was published; False if a replica already did."""
    cur = await conn.execute(
        "INSERT INTO scheduled_editions (cutoff, year, number) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        (cutoff, year, number),
    )
    return cur.rowcount == 1


async def scheduled_done(conn: Conn, cutoff: datetime) -> bool:
    cur = await conn.execute("SELECT 1 FROM scheduled_editions WHERE cutoff = %s", (cutoff,))
    return await cur.fetchone() is not None


def _payload(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else json.loads(bytes(row["payload"]))
