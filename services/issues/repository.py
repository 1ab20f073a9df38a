"""PostgreSQL storage of units and issues (the service's own schema)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from services.runtime.db import Conn

from .domain.issue_events import IssueDetails
from .domain.lifecycle import Issue, IssueState
from .domain.units import Category, Unit

# -- units -----------------------------------------------------------------------------------


def _unit(row: dict[str, Any]) -> Unit:
    return Unit(
        unit_id=row["unit_id"],
        name=row["name"],
        category=Category(row["category"]),
        parent_id=row["parent_id"],
        active=row["active"],
        version=row["version"],
    )


async def load_units(conn: Conn, unit_ids: Iterable[str | None]) -> dict[str, Unit]:
    """The named units (locked for update), as a directory mapping for the domain."""
    ids = sorted({u for u in unit_ids if u})
    cur = await conn.execute(
        "SELECT * FROM units WHERE unit_id = ANY(%s) ORDER BY unit_id FOR UPDATE", (ids,)
    )
    return {row["unit_id"]: _unit(row) for row in await cur.fetchall()}


async def load_units_with_children(conn: Conn, unit_ids: Iterable[str | None]) -> dict[str, Unit]:
    """The named units and their towns, locked for update: what a directory decision needs
    (a district's category change must see its towns, R1.1)."""
    ids = sorted({u for u in unit_ids if u})
    cur = await conn.execute(
        "SELECT * FROM units WHERE unit_id = ANY(%s) OR parent_id = ANY(%s)"
        " ORDER BY unit_id FOR UPDATE",
        (ids, ids),
    )
    return {row["unit_id"]: _unit(row) for row in await cur.fetchall()}


_UNIT_FOR_REPORT = "SELECT * FROM units WHERE unit_id = %s FOR SHARE"


async def unit_for_report(conn: Conn, unit_id: str) -> Unit | None:
    """The unit an issue is given to, share-locked so that it cannot be deactivated until the
    report commits (R1.3), without making concurrent reports for it wait on each other."""
    cur = await conn.execute(_UNIT_FOR_REPORT, (unit_id,))
    row = await cur.fetchone()
    return None if row is None else _unit(row)


class UnitExists(Exception):
    """The unit id is already in the table (a concurrent registration won the race)."""


async def insert_unit(conn: Conn, unit: Unit, at: Any) -> None:
    """R1.2: a registration is a plain INSERT, so two concurrent registrations of one new
    unit_id cannot both succeed (the loser's FOR UPDATE found no row to lock). The unique
    violation aborts the caller's transaction, which then rolls back."""
    try:
        await conn.execute(
            "INSERT INTO units (unit_id, name, category, parent_id, active, version, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                unit.unit_id,
                unit.name,
                str(unit.category),
                unit.parent_id,
                unit.active,
                unit.version,
                at,
            ),
        )
    except UniqueViolation:
        raise UnitExists(unit.unit_id) from None


async def update_unit(conn: Conn, unit: Unit, at: Any) -> None:
    """Write a change of a unit loaded FOR UPDATE; the version check guards a lost update."""
    cur = await conn.execute(
        "UPDATE units SET name = %s, category = %s, parent_id = %s, active = %s, version = %s,"
        " updated_at = %s WHERE unit_id = %s AND version = %s",
        (
            unit.name,
            str(unit.category),
            unit.parent_id,
            unit.active,
            unit.version,
            at,
            unit.unit_id,
            unit.version - 1,
        ),
    )
    if cur.rowcount != 1:
        raise RuntimeError(f"unit {unit.unit_id} changed concurrently")


async def list_units(conn: Conn) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT unit_id, name, category, parent_id, active, version FROM units ORDER BY unit_id"
    )
    return list(await cur.fetchall())


# -- issues ----------------------------------------------------------------------------------


_NEXT_NUMBER = (
    "INSERT INTO issue_numbers (year, last) VALUES (%s, 1)"
    " ON CONFLICT (year) DO UPDATE SET last = issue_numbers.last + 1 RETURNING last"
)


async def next_number_seq(conn: Conn, year: int) -> int:
    """R2.1: the next gap-free sequence number of ``year``; the row lock serialises concurrent
    reports (also across replicas) and a rollback returns the number."""
    cur = await conn.execute(_NEXT_NUMBER, (year,))
    row = await cur.fetchone()
    assert row is not None
    return int(row["last"])


async def unit_and_next_number(conn: Conn, unit_id: str, year: int) -> tuple[Unit | None, int]:
    """``unit_for_report`` and then ``next_number_seq``, both sent before either answer is
    read: on a connection in pipeline mode, one round trip. The server still takes the unit's
    share lock first and the year's counter only after it, so the counter is held no longer;
    a report for an unknown unit rolls back and so gives its number back."""
    units = await conn.execute(_UNIT_FOR_REPORT, (unit_id,))
    numbers = await conn.execute(_NEXT_NUMBER, (year,))
    unit, number = await units.fetchone(), await numbers.fetchone()
    assert number is not None
    return (None if unit is None else _unit(unit)), int(number["last"])


def _details_json(details: IssueDetails) -> dict[str, Any]:
    return {
        "point_type": details.point_type,
        "description": details.description,
        "address": details.address,
        "inspector": details.inspector,
        "team": details.team,
        "photos": list(details.photos),
        "lat": None if details.lat is None else str(details.lat),
        "lon": None if details.lon is None else str(details.lon),
    }


def _details(data: dict[str, Any]) -> IssueDetails:
    return IssueDetails(
        point_type=data["point_type"],
        description=data["description"],
        address=data["address"],
        inspector=data["inspector"],
        team=data["team"],
        photos=tuple(data["photos"]),
        lat=None if data["lat"] is None else Decimal(data["lat"]),
        lon=None if data["lon"] is None else Decimal(data["lon"]),
    )


def issue_from_row(row: dict[str, Any]) -> Issue:
    return Issue(
        issue_id=row["issue_id"],
        number=row["number"],
        unit_id=row["unit_id"],
        category=row["category"],
        found_at=row["found_at"],
        reported_at=row["reported_at"],
        deadline=row["deadline"],
        state=IssueState(row["state"]),
        rework_count=row["rework_count"],
        version=row["version"],
        first_rectified_at=row["first_rectified_at"],
        imported=row["imported"],
        updated_at=row["updated_at"],
        details=_details(row["details"]),
        overdue_emitted=row["overdue_emitted"],
        requested_deadline=row["requested_deadline"],
    )


async def load_issue(conn: Conn, issue_id: UUID) -> Issue | None:
    """The issue, locked for the rest of the transaction (one writer at a time)."""
    cur = await conn.execute("SELECT * FROM issues WHERE issue_id = %s FOR UPDATE", (issue_id,))
    row = await cur.fetchone()
    return None if row is None else issue_from_row(row)


async def issue_for_request(conn: Conn, request_id: UUID) -> Issue | None:
    cur = await conn.execute("SELECT * FROM issues WHERE request_id = %s", (request_id,))
    row = await cur.fetchone()
    return None if row is None else issue_from_row(row)


async def issues_under_keys(
    conn: Conn, ledger_numbers: list[str], request_ids: list[UUID]
) -> list[dict[str, Any]]:
    """R2.1: the issues already stored under any of these backfill keys."""
    cur = await conn.execute(
        "SELECT number, ledger_number, request_id FROM issues"
        " WHERE ledger_number = ANY(%s) OR request_id = ANY(%s)",
        (ledger_numbers, request_ids),
    )
    return list(await cur.fetchall())


async def insert_issue(
    conn: Conn, issue: Issue, request_id: UUID | None, ledger_number: str | None = None
) -> None:
    await conn.execute(
        "INSERT INTO issues (issue_id, number, unit_id, category, found_at, reported_at,"
        " deadline, state, rework_count, version, first_rectified_at, imported, updated_at,"
        " overdue_emitted, requested_deadline, details, request_id, ledger_number)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            issue.issue_id,
            issue.number,
            issue.unit_id,
            issue.category,
            issue.found_at,
            issue.reported_at,
            issue.deadline,
            str(issue.state),
            issue.rework_count,
            issue.version,
            issue.first_rectified_at,
            issue.imported,
            issue.updated_at,
            issue.overdue_emitted,
            issue.requested_deadline,
            Jsonb(_details_json(issue.details)),
            request_id,
            ledger_number,
        ),
    )


async def update_issue(conn: Conn, issue: Issue) -> None:
    """Write the new state; the version check guards against a lost update."""
    cur = await conn.execute(
        "UPDATE issues SET unit_id = %s, deadline = %s, state = %s, rework_count = %s,"
        " version = %s, first_rectified_at = %s, updated_at = %s, overdue_emitted = %s,"
        " requested_deadline = %s WHERE issue_id = %s AND version = %s RETURNING version",
        (
            issue.unit_id,
            issue.deadline,
            str(issue.state),
            issue.rework_count,
            issue.version,
            issue.first_rectified_at,
            issue.updated_at,
            issue.overdue_emitted,
            issue.requested_deadline,
            issue.issue_id,
            issue.version - 1,
        ),
    )
    if await cur.fetchone() is None:  # not rowcount: unknown yet in pipeline mode
        raise RuntimeError(f"issue {issue.issue_id} changed concurrently")


def _history_json(data: Any) -> str:
    # Instants, UUIDs and other non-JSON values of a history entry are stored as their str().
    return json.dumps(data, default=str)


async def append_history(
    conn: Conn, issue: Issue, kind: str, actor: str, data: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO issue_history (issue_id, version, kind, actor, at, data)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (
            issue.issue_id,
            issue.version,
            kind,
            actor,
            issue.updated_at,
            Jsonb(data, dumps=_history_json),
        ),
    )


async def history(conn: Conn, issue_id: UUID) -> list[dict[str, Any]]:
    cur = await conn.execute(
        "SELECT version, kind, actor, at, data FROM issue_history WHERE issue_id = %s"
        " ORDER BY version",
        (issue_id,),
    )
    return list(await cur.fetchall())


def _instant(value: datetime) -> str:
    # One spelling per instant (UTC), whatever offset the caller used.
    return value.astimezone(UTC).isoformat()


def issue_view(issue: Issue) -> dict[str, Any]:
    """The public JSON shape of an issue."""
    return {
        "issue_id": str(issue.issue_id),
        "number": issue.number,
        "unit_id": issue.unit_id,
        "category": issue.category,
        "state": str(issue.state),
        "found_at": _instant(issue.found_at),
        "reported_at": _instant(issue.reported_at),
        "deadline": _instant(issue.deadline),
        "rework_count": issue.rework_count,
        "version": issue.version,
        "imported": issue.imported,
        "first_rectified_at": (
            _instant(issue.first_rectified_at) if issue.first_rectified_at else None
        ),
        **_details_json(issue.details),
    }


async def get_issue_view(conn: Conn, issue_id: UUID) -> dict[str, Any] | None:
    cur = await conn.execute("SELECT * FROM issues WHERE issue_id = %s", (issue_id,))
    row = await cur.fetchone()
    return None if row is None else issue_view(issue_from_row(row))


async def overdue_candidates(conn: Conn, now: datetime, limit: int) -> list[Issue]:
    """R2.4: issues to be rectified whose deadline has passed and whose overdue event is not
    out yet, locked; rows another replica (or a user) holds are skipped, not waited for."""
    cur = await conn.execute(
        "SELECT * FROM issues WHERE state IN ('open', 'reopened') AND NOT overdue_emitted"
        " AND deadline < %s ORDER BY deadline LIMIT %s FOR UPDATE SKIP LOCKED",
        (now, limit),
    )
    return [issue_from_row(row) for row in await cur.fetchall()]
