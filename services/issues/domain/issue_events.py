"""The events of an issue's life (R2), one frozen dataclass per kind.

Every event carries the issue, the unit that owns it after the event, when it happened and the
issue's new ``version`` (the previous one + 1), so a consumer can order and deduplicate them.
``kind`` is a field (not only the class) so that a serialised event says what it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

__all__ = [
    "DeadlineExtended",
    "ExtensionRefused",
    "ExtensionRequested",
    "IssueBecameOverdue",
    "IssueDetails",
    "IssueEvent",
    "IssueEventBase",
    "IssueRectified",
    "IssueReopened",
    "IssueReported",
    "IssueTransferred",
    "IssueVerified",
    "IssueVoided",
]


@dataclass(frozen=True, kw_only=True)
class IssueDetails:
    """R2.1: what the inspection team recorded; the rules never branch on it."""

    point_type: str
    description: str
    address: str
    inspector: str
    team: str
    photos: tuple[str, ...] = ()
    # Coordinates are Decimal so that canonical JSON keeps exactly what was entered.
    lat: Decimal | None = None
    lon: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class IssueEventBase:
    """Fields common to every issue event."""

    issue_id: UUID
    unit_id: str
    occurred_at: datetime
    version: int


@dataclass(frozen=True, kw_only=True)
class IssueReported(IssueEventBase):
    """R2.1/R2.2: accepted report; notify sends the 督办通知书 on it (R5.1)."""

    kind: Literal["reported"] = field(default="reported", init=False)
    number: str
    category: str
    found_at: datetime
    reported_at: datetime
    deadline: datetime
    imported: bool
    details: IssueDetails


@dataclass(frozen=True, kw_only=True)
class IssueRectified(IssueEventBase):
    """R2.3: the unit reports the fix, with evidence."""

    kind: Literal["rectified"] = field(default="rectified", init=False)
    evidence: tuple[str, ...]
    first_rectified_at: datetime


@dataclass(frozen=True, kw_only=True)
class IssueVerified(IssueEventBase):
    """R2.3: a re-inspection (回头看) passed."""

    kind: Literal["verified"] = field(default="verified", init=False)
    note: str


@dataclass(frozen=True, kw_only=True)
class IssueReopened(IssueEventBase):
    """R2.3: a re-inspection failed; ``rework_count`` is the new count."""

    kind: Literal["reopened"] = field(default="reopened", init=False)
    note: str
    rework_count: int
    deadline: datetime


@dataclass(frozen=True, kw_only=True)
class IssueVoided(IssueEventBase):
    """R2.3: duplicate or not this unit's responsibility; final, and leaves every count."""

    kind: Literal["voided"] = field(default="voided", init=False)
    reason: str
    previous_state: str


@dataclass(frozen=True, kw_only=True)
class IssueTransferred(IssueEventBase):
    """R2.6 转办: ``unit_id`` is the new unit from ``occurred_at`` on."""

    kind: Literal["transferred"] = field(default="transferred", init=False)
    from_unit_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ExtensionRequested(IssueEventBase):
    """R2.6 延期: the unit asks for a later deadline."""

    kind: Literal["extension_requested"] = field(default="extension_requested", init=False)
    requested_deadline: datetime
    reason: str


@dataclass(frozen=True, kw_only=True)
class DeadlineExtended(IssueEventBase):
    """R2.6: the office approved; ``deadline`` replaces ``previous_deadline`` from now on."""

    kind: Literal["extended"] = field(default="extended", init=False)
    previous_deadline: datetime
    deadline: datetime
    note: str


@dataclass(frozen=True, kw_only=True)
class ExtensionRefused(IssueEventBase):
    """R2.6: the office refused; the deadline stands."""

    kind: Literal["extension_refused"] = field(default="extension_refused", init=False)
    requested_deadline: datetime
    note: str


@dataclass(frozen=True, kw_only=True)
class IssueBecameOverdue(IssueEventBase):
    """R2.4: the issue has just entered the overdue condition (once per entry); ``imported``
    when a backfill replayed it from the historical record (R2.1)."""

    kind: Literal["overdue"] = field(default="overdue", init=False)
    deadline: datetime
    imported: bool = False


IssueEvent = (
    IssueReported
    | IssueRectified
    | IssueVerified
    | IssueReopened
    | IssueVoided
    | IssueTransferred
    | ExtensionRequested
    | DeadlineExtended
    | ExtensionRefused
    | IssueBecameOverdue
)
