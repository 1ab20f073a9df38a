"""PostgreSQL storage of the fund, the settled revisions and the ledger (schema ``incentives``).

``settled_revisions`` and ``ledger_entries`` are append-only (R6.4); ``funds`` is the one row
per year that settlements lock; the database moves its ``allocated`` with every ledger insert
and refuses any other change of it (migration 0002), so it is always the net of the entries.
``unit_names`` keeps names and categories from the editions, for the exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from services.runtime.db import Conn, columns

from .domain.ledger import LedgerEntry, LedgerState, SettledRevision, ledger_state
from .domain.settlement import Settlement


@dataclass(frozen=True)
class Fund:
    """The locked ``funds`` row of a year."""

    year: int
    fund: int
    planned_editions: int
    allocated: int
    version: int


async def lock_fund(conn: Conn, year: int, fund: int, planned_editions: int) -> Fund:
    """The year's fund row, created from the settings on first use, locked until commit (R6.2:
    one settlement of a year at a time, across replicas). An existing row is returned as
    stored, whatever ``fund`` and ``planned_editions`` say: the caller compares them."""
    await conn.execute(
        "INSERT INTO funds (year, fund, planned_editions) VALUES (%s, %s, %s)"
        " ON CONFLICT (year) DO NOTHING",
        (year, fund, planned_editions),
    )
    cur = await conn.execute(
        "SELECT year, fund, planned_editions, allocated, version FROM funds"
        " WHERE year = %s FOR UPDATE",
        (year,),
    )
    row = await cur.fetchone()
    assert row is not None
    return Fund(**row)


async def load_ledger(conn: Conn, fund: Fund) -> LedgerState:
    """Rebuild the year's ``LedgerState`` from its stored rows (the fold of R6.4)."""
    cur = await conn.execute(
        "SELECT year, edition, revision, cutoff, pool, rule_version, source_event_id"
        " FROM settled_revisions WHERE year = %s ORDER BY id",
        (fund.year,),
    )
    records = [
        SettledRevision(**{**row, "source_event_id": str(row["source_event_id"])})
        for row in await cur.fetchall()
    ]
    cur = await conn.execute(
        "SELECT year, edition, revision, unit_id, fen, kind, rule_version, source_event_id"
        " FROM ledger_entries WHERE year = %s ORDER BY id",
        (fund.year,),
    )
    entries = [
        LedgerEntry(**{**row, "source_event_id": str(row["source_event_id"])})
        for row in await cur.fetchall()
    ]
    state = ledger_state(fund.year, fund.fund, fund.planned_editions, records, entries)
    if state.allocated != fund.allocated:
        raise RuntimeError(
            f"fund {fund.year}: ledger nets {state.allocated} fen but the fund row says "
            f"{fund.allocated}"
        )
    return state


async def save_settlement(
    conn: Conn, fund: Fund, settlement: Settlement, stream_seq: int | None, at: datetime
) -> Fund:
    """Append the settled revision and its entries, settled and booked ``at`` (the instant of
    the settlement, which its allocated event carries: a rebuild books them at the same time
    without rewriting a row), and bump the year's event version; returns the updated fund.
    The UNIQUE keys refuse a double settlement; the database moves ``funds.allocated`` with
    the entries and refuses an overspend (migration 0002, R6.4)."""
    record = settlement.record
    assert record is not None, "an ignored settlement stores nothing"
    await conn.execute(
        "INSERT INTO settled_revisions (year, edition, revision, outcome, cutoff, pool, split,"
        " rule_version, source_event_id, stream_seq, settled_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            record.year,
            record.edition,
            record.revision,
            settlement.outcome,
            record.cutoff,
            record.pool,
            settlement.split,
            record.rule_version,
            UUID(record.source_event_id),
            stream_seq,
            at,
        ),
    )
    if settlement.entries:
        # One statement for all entries: the booking trigger runs once per statement.
        entries = columns(_entry_row(e) for e in settlement.entries)
        await conn.execute(
            "INSERT INTO ledger_entries (year, edition, revision, unit_id, fen, kind,"
            " rule_version, source_event_id, booked_at) SELECT *, %s::timestamptz"
            " FROM unnest(%s::int[], %s::int[], %s::int[], %s::text[], %s::bigint[],"
            " %s::text[], %s::text[], %s::uuid[])",
            [at, *entries],
        )
    cur = await conn.execute(
        "UPDATE funds SET version = version + 1 WHERE year = %s"
        " RETURNING year, fund, planned_editions, allocated, version",
        (fund.year,),
    )
    row = await cur.fetchone()
    assert row is not None
    return Fund(**row)


def _entry_row(e: LedgerEntry) -> tuple[Any, ...]:
    return (
        e.year,
        e.edition,
        e.revision,
        e.unit_id,
        e.fen,
        e.kind,
        e.rule_version,
        UUID(e.source_event_id),
    )


async def save_unit_names(
    conn: Conn, year: int, edition: int, revision: int, names: dict[str, tuple[str, str]]
) -> None:
    """Remember each unit's name and category (R1.1) as this edition revision gives them, for
    the exports; a name from an earlier edition never replaces a later one."""
    if not names:
        return
    ids = sorted(names)
    await conn.execute(
        "INSERT INTO unit_names AS n (unit_id, name, category, year, edition, revision)"
        " SELECT u, nm, c, %s, %s, %s FROM unnest(%s::text[], %s::text[], %s::text[])"
        " AS t (u, nm, c)"
        " ON CONFLICT (unit_id) DO UPDATE SET name = EXCLUDED.name,"
        " category = EXCLUDED.category, year = EXCLUDED.year, edition = EXCLUDED.edition,"
        " revision = EXCLUDED.revision"
        " WHERE (n.year, n.edition, n.revision)"
        " <= (EXCLUDED.year, EXCLUDED.edition, EXCLUDED.revision)",
        (
            year,
            edition,
            revision,
            ids,
            [names[u][0] for u in ids],
            [names[u][1] for u in ids],
        ),
    )


async def stored_funds(conn: Conn) -> list[dict[str, Any]]:
    """Every year's stored fund and E (R6.1, R6.2), oldest year first."""
    cur = await conn.execute("SELECT year, fund, planned_editions FROM funds ORDER BY year")
    return list(await cur.fetchall())


# -- read side -------------------------------------------------------------------------------


async def fund_figures(conn: Conn, year: int) -> dict[str, Any] | None:
    """The stored fund row of ``year`` with the number of editions settled (R6.2 k)."""
    cur = await conn.execute(
        "SELECT f.year, f.fund, f.planned_editions, f.allocated,"
        " (SELECT count(DISTINCT edition) FROM settled_revisions s WHERE s.year = f.year)"
        " AS editions_settled FROM funds f WHERE f.year = %s",
        (year,),
    )
    return await cur.fetchone()


async def edition_revisions(conn: Conn, year: int, edition: int) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT revision, outcome, cutoff, pool, split, rule_version, source_event_id,"
        " stream_seq, settled_at FROM settled_revisions WHERE year = %s AND edition = %s"
        " ORDER BY revision",
        (year, edition),
    )
    return list(await cur.fetchall())


async def entries(
    conn: Conn, year: int, edition: int | None = None, unit_id: str | None = None
) -> list[dict[str, Any]]:
    """Ledger entries of ``year`` in booking order, optionally of one edition or one unit."""
    cur = await conn.execute(
        "SELECT year, edition, revision, unit_id, fen, kind, rule_version, source_event_id,"
        " booked_at FROM ledger_entries WHERE year = %s"
        " AND (%s::int IS NULL OR edition = %s) AND (%s::text IS NULL OR unit_id = %s)"
        " ORDER BY id",
        (year, edition, edition, unit_id, unit_id),
    )
    return list(await cur.fetchall())


async def export_rows(conn: Conn, year: int, unit_id: str | None = None) -> list[dict[str, Any]]:
    """Ledger entries of ``year`` in booking order with the unit's name and category (as the
    editions gave them) and the edition's cutoff, for the finance office's exports."""
    cur = await conn.execute(
        "SELECT e.year, e.edition, e.revision, s.cutoff, e.unit_id, n.name, n.category,"
        " e.kind, e.fen, e.rule_version, e.source_event_id, e.booked_at"
        " FROM ledger_entries e"
        " JOIN settled_revisions s USING (year, edition, revision)"
        " LEFT JOIN unit_names n ON n.unit_id = e.unit_id"
        " WHERE e.year = %s AND (%s::text IS NULL OR e.unit_id = %s) ORDER BY e.id",
        (year, unit_id, unit_id),
    )
    return list(await cur.fetchall())
