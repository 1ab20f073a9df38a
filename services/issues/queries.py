"""Read side of the issues service: ``GET /v1/issues`` with filters and keyset pagination.

Newest report first; the cursor is the last row's ``(reported_at, issue_id)``, so a page is
stable while new issues arrive (they only appear before the first page).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.contracts.base import ShortText, UnitId
from services.runtime.db import Conn

from .repository import issue_from_row, issue_view

State = Literal["open", "rectified", "verified", "reopened", "void"]


class IssueQuery(BaseModel):
    """The filters of ``GET /v1/issues`` (query parameters)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_id: UnitId | None = None
    status: State | None = None
    overdue: bool | None = None
    category: ShortText | None = None
    reported_from: AwareDatetime | None = None
    reported_to: AwareDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    after: Annotated[str, Field(max_length=200)] | None = None

    @field_validator("after")
    @classmethod
    def _a_cursor_we_gave(cls, after: str | None) -> str | None:
        if after is not None:
            decode_cursor(after)
        return after


def encode_cursor(reported_at: datetime, issue_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{reported_at.isoformat()}|{issue_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        at, _, issue_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        reported_at = datetime.fromisoformat(at)
        if reported_at.utcoffset() is None:
            # A naive instant would be read in the session's time zone: not our cursor.
            raise ValueError("naive instant")
        return reported_at, UUID(issue_id)
    except ValueError as exc:
        raise ValueError("not a cursor from a previous page") from exc


async def list_issues(
    conn: Conn, query: IssueQuery, readable: set[str] | None, now: datetime
) -> dict[str, Any]:
    """One page of issues matching ``query`` among the units ``readable`` (None: all)."""
    where: list[str] = ["true"]
    args: list[Any] = []
    if readable is not None:
        where.append("unit_id = ANY(%s)")
        args.append(sorted(readable))
    for column in ("unit_id", "category"):
        if (value := getattr(query, column)) is not None:
            where.append(f"{column} = %s")
            args.append(value)
    if query.status is not None:
        where.append("state = %s")
        args.append(query.status)
    if query.overdue is not None:
        # R2.4: open or reopened strictly after the deadline.
        condition = "(state IN ('open', 'reopened') AND deadline < %s)"
        where.append(condition if query.overdue else f"NOT {condition}")
        args.append(now)
    if query.reported_from is not None:
        where.append("reported_at >= %s")
        args.append(query.reported_from)
    if query.reported_to is not None:
        where.append("reported_at <= %s")
        args.append(query.reported_to)
    if query.after is not None:
        where.append("(reported_at, issue_id) < (%s, %s)")
        args.extend(decode_cursor(query.after))
    cur = await conn.execute(
        f"SELECT * FROM issues WHERE {' AND '.join(where)}"
        " ORDER BY reported_at DESC, issue_id DESC LIMIT %s",
        (*args, query.limit + 1),
    )
    rows = [issue_from_row(row) for row in await cur.fetchall()]
    page = rows[: query.limit]
    more = len(rows) > query.limit
    last = page[-1] if page and more else None
    return {
        "items": [issue_view(issue) for issue in page],
        "next": encode_cursor(last.reported_at, last.issue_id) if last else None,
    }
