"""``issues.v1.*``: the supervision-notice lifecycle (R2), published by the issues service."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints

from .base import Contract, LongText, Reason, ShortText, UnitId, Url
from .envelope import Event

IssueNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,10}-\d{4}-\d{6,}$")]
Photos = Annotated[list[Url], Field(max_length=20)]


class Location(Contract):
    """Where the problem was found: an address, optionally with coordinates."""

    address: ShortText
    # Decimal, not float: canonical JSON carries numbers exactly, as strings (R7).
    lat: Decimal | None = Field(None, ge=-90, le=90, max_digits=12, decimal_places=8)
    lon: Decimal | None = Field(None, ge=-180, le=180, max_digits=12, decimal_places=8)


class IssueReported(Event):
    """R2.1-R2.2: a problem found by an inspection team; this issues the supervision notice
    (督办通知书) to its unit."""

    SUBJECT = "issues.v1.reported"
    type: Literal["issues.v1.reported"] = "issues.v1.reported"
    issue_id: UUID
    number: IssueNumber
    unit_id: UnitId
    category: ShortText
    point_type: ShortText
    description: LongText
    location: Location
    photos: Photos = []
    found_at: AwareDatetime
    reported_at: AwareDatetime
    deadline: AwareDatetime
    inspector: ShortText
    team: ShortText
    imported: bool = False


class IssueRectified(Event):
    """R2.3: the unit reports the fix, with evidence."""

    SUBJECT = "issues.v1.rectified"
    type: Literal["issues.v1.rectified"] = "issues.v1.rectified"
    issue_id: UUID
    unit_id: UnitId
    evidence: Annotated[list[Url], Field(min_length=1, max_length=20)]
    note: Reason | None = None


class IssueVerified(Event):
    """R2.3: a re-inspection (回头看) passed."""

    SUBJECT = "issues.v1.verified"
    type: Literal["issues.v1.verified"] = "issues.v1.verified"
    issue_id: UUID
    unit_id: UnitId
    inspector: ShortText
    note: Reason | None = None


class IssueReopened(Event):
    """R2.3: a re-inspection failed; ``rework_count`` is the issue's new total."""

    SUBJECT = "issues.v1.reopened"
    type: Literal["issues.v1.reopened"] = "issues.v1.reopened"
    issue_id: UUID
    unit_id: UnitId
    inspector: ShortText
    rework_count: int = Field(ge=1)
    note: Reason | None = None


class IssueVoided(Event):
    """R2.3: duplicate or not this unit's responsibility; final, leaves every count."""

    SUBJECT = "issues.v1.voided"
    type: Literal["issues.v1.voided"] = "issues.v1.voided"
    issue_id: UUID
    unit_id: UnitId
    reason: Reason


class IssueOverdue(Event):
    """R2.4: the issue entered the overdue condition (once per entry, never per poll).
    ``imported``: the spell was replayed by an office backfill of historical records (R2.1), so
    no overdue notice is due for it now (R5.1)."""

    SUBJECT = "issues.v1.overdue"
    type: Literal["issues.v1.overdue"] = "issues.v1.overdue"
    issue_id: UUID
    unit_id: UnitId
    number: IssueNumber
    deadline: AwareDatetime
    imported: bool = False


class IssueTransferred(Event):
    """R2.6 转办: the office moved the issue to ``unit_id`` (from ``from_unit_id``); from
    ``occurred_at`` on it counts for the new unit only, with its original ``reported_at`` and
    deadline."""

    SUBJECT = "issues.v1.transferred"
    type: Literal["issues.v1.transferred"] = "issues.v1.transferred"
    issue_id: UUID
    unit_id: UnitId
    from_unit_id: UnitId
    reason: Reason


class ExtensionRequested(Event):
    """R2.6 延期: the unit asks for a later deadline, with a reason."""

    SUBJECT = "issues.v1.extension_requested"
    type: Literal["issues.v1.extension_requested"] = "issues.v1.extension_requested"
    issue_id: UUID
    unit_id: UnitId
    requested_deadline: AwareDatetime
    reason: Reason


class DeadlineExtended(Event):
    """R2.6: the office approved an extension; ``deadline`` replaces ``previous_deadline`` from
    ``occurred_at`` on."""

    SUBJECT = "issues.v1.deadline_extended"
    type: Literal["issues.v1.deadline_extended"] = "issues.v1.deadline_extended"
    issue_id: UUID
    unit_id: UnitId
    previous_deadline: AwareDatetime
    deadline: AwareDatetime
    note: Annotated[str, StringConstraints(max_length=1000)] = ""


class ExtensionRefused(Event):
    """R2.6: the office refused an extension; the deadline stands."""

    SUBJECT = "issues.v1.extension_refused"
    type: Literal["issues.v1.extension_refused"] = "issues.v1.extension_refused"
    issue_id: UUID
    unit_id: UnitId
    requested_deadline: AwareDatetime
    note: Annotated[str, StringConstraints(max_length=1000)] = ""
