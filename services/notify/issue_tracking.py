"""Storage of the issue projection that reminders need (R5.1, the ``tracked_issues`` table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from services.runtime.db import Conn

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


async def load(conn: Conn, issue_id: UUID) -> TrackedIssue:
    """The projection of one issue, locked for this transaction (empty if never seen)."""
    await conn.execute(
        "INSERT INTO tracked_issues (issue_id, state, state_version, unit_version,"
        " deadline_version) VALUES (%s, 'open', 0, 0, 0) ON CONFLICT DO NOTHING",
        (issue_id,),
    )
    cur = await conn.execute(
        "SELECT * FROM tracked_issues WHERE issue_id = %s FOR UPDATE", (issue_id,)
    )
    row = await cur.fetchone()
    assert row is not None
    return _from_row(row)


async def save(conn: Conn, issue: TrackedIssue) -> None:
    details = None
    if issue.details is not None:
        details = {
            k: v.isoformat() if isinstance(v, datetime) else v
            for k, v in issue.details.__dict__.items()
        }
    remind_at = None if issue.deadline is None else issue.deadline - REMINDER_LEAD
    await conn.execute(
        "UPDATE tracked_issues SET state = %s, state_version = %s, unit_id = %s,"
        " unit_version = %s, deadline = %s, deadline_version = %s, details = %s, remind_at = %s"
        " WHERE issue_id = %s",
        (
            str(issue.state),
            issue.state_version,
            issue.unit_id,
            issue.unit_version,
            issue.deadline,
            issue.deadline_version,
            None if details is None else Jsonb(details),
            remind_at,
            issue.issue_id,
        ),
    )


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
