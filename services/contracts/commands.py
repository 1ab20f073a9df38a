"""Request-reply commands on ``cmd.<service>.v1.<verb>`` (never captured by a stream)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints

from .base import Contract, LongText, ShortText, UnitId, Url
from .issues import Location

REPORT_ISSUE = "cmd.issues.v1.report"


class IssueIntake(Contract):
    """R2.1-R2.2: report a problem (Open311-style fields). ``request_id`` makes a retry safe:
    the same id answers with the issue it created the first time."""

    unit_id: UnitId
    category: ShortText
    point_type: ShortText
    description: LongText
    location: Location
    photos: Annotated[list[Url], Field(max_length=20)] = []
    found_at: AwareDatetime
    inspector: ShortText
    team: ShortText
    deadline: AwareDatetime | None = None
    request_id: UUID | None = None


class ReportIssue(IssueIntake):
    """``cmd.issues.v1.report``: on the bus a reply can be lost and the request retried, so the
    request id is required there (a second issue would inflate the unit's counts, R3.1)."""

    request_id: UUID


class FieldError(Contract):
    """One invalid field: its path (``location.lat``) and what is wrong with it."""

    path: Annotated[str, StringConstraints(max_length=500)]
    message: Annotated[str, StringConstraints(max_length=1000)]


class CommandError(Contract):
    """A structured refusal: a stable code, a readable message, the offending fields."""

    code: Literal["invalid", "not_found", "conflict", "internal"]
    message: Annotated[str, StringConstraints(max_length=2000)]
    fields: list[FieldError] = []


class CommandReply(Contract):
    """Every command answers with either ``result`` or ``error``."""

    ok: bool
    result: dict[str, Any] | None = None
    error: CommandError | None = None
