"""Storage of the issue projection that reminders need (R5.1, the ``tracked_issues`` table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from services.runtime.db import Conn, columns

from .domain.issue_notices import REMINDER_LEAD, IssueFacts, IssueState, TrackedIssue


def _from_row(row: dict[str, Any]) -> TrackedIssue:
    details = row["details"]
    return TrackedIssue(
        issue_id=str(row["issue_id"]),
        state=IssueState(row["state"]),
        state_version=row["state_version"],
        unit_id=row["unit_id"],
        unit_version=row["unit_version"],
        deadline=row["deadline"],
        deadline_version=row["deadline_version"],
        details=None
        if details is None
        else IssueFacts(**details | {"deadline": datetime.fromisoformat(details["deadline"])}),
    )


async def load_many(conn: Conn, issue_ids: list[UUID]) -> dict[str, TrackedIssue]:
    """The projection of each of ``issue_ids`` (empty if never seen), locked for this
    transaction in id order, so that two batches touching the same issues never wait for each
    other in a circle."""
    ids = sorted(issue_ids)
    await conn.execute(
        "INSERT INTO tracked_issues (issue_id, state, state_version, unit_version,"
        " deadline_version) SELECT id, 'open', 0, 0, 0 FROM unnest(%b::uuid[]) AS id"
        " ORDER BY id ON CONFLICT DO NOTHING",
        (ids,),
    )
    cur = await conn.execute(
        "SELECT * FROM tracked_issues WHERE issue_id = ANY(%b) ORDER BY issue_id FOR UPDATE",
        (ids,),
    )
    return {str(row["issue_id"]): _from_row(row) for row in await cur.fetchall()}


_SAVE = (
    "UPDATE tracked_issues t SET state = s.state, state_version = s.state_version,"
    " unit_id = s.unit_id, unit_version = s.unit_version, deadline = s.deadline,"
    " deadline_version = s.deadline_version, details = s.details, remind_at = s.remind_at"
    " FROM unnest(%b::uuid[], %b::text[], %b::int[], %b::text[], %b::int[],"
    " %b::timestamptz[], %b::int[], %b::jsonb[], %b::timestamptz[])"
    " AS s (issue_id, state, state_version, unit_id, unit_version, deadline, deadline_version,"
    " details, remind_at) WHERE t.issue_id = s.issue_id"
)


def _save_row(issue: TrackedIssue) -> tuple[Any, ...]:
    details = None
    if issue.details is not None:
        details = {
            k: v.isoformat() if isinstance(v, datetime) else v
            for k, v in issue.details.__dict__.items()
        }
    remind_at = None if issue.deadline is None else issue.deadline - REMINDER_LEAD
    return (
        UUID(issue.issue_id),
        str(issue.state),
        issue.state_version,
        issue.unit_id,
        issue.unit_version,
        issue.deadline,
        issue.deadline_version,
        None if details is None else Jsonb(details),
        remind_at,
    )


async def save_many(conn: Conn, issues: list[TrackedIssue]) -> None:
    """Write ``issues`` back in one statement, each column an array in binary format
    (`runtime.db.columns`; a statement per row cost 1.7x the CPU)."""
    if issues:
        await conn.execute(_SAVE, columns(map(_save_row, issues)))


async def claim_reminders(
    conn: Conn, now: datetime, limit: int
) -> list[tuple[TrackedIssue, datetime | None]]:
    """Issues whose reminder time has come, locked; other replicas skip them (the scheduler
    is coordinated through the database)."""
    cur = await conn.execute(
        "SELECT * FROM tracked_issues WHERE state IN ('open', 'reopened') AND remind_at <= %s"
        " AND deadline > %s AND details IS NOT NULL"
        " AND reminded_for IS DISTINCT FROM deadline"
        " ORDER BY remind_at LIMIT %s FOR UPDATE SKIP LOCKED",
        (now, now, limit),
    )
    return [(_from_row(row), row["reminded_for"]) for row in await cur.fetchall()]


async def mark_reminded(conn: Conn, issue_id: str, deadline: datetime) -> None:
    await conn.execute(
        "UPDATE tracked_issues SET reminded_for = %s WHERE issue_id = %s", (deadline, issue_id)
    )
