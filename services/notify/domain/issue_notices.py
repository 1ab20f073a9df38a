"""Notices about single issues (督办, R5.1): the supervision notice on report, a reminder 24 h
before the deadline and the overdue notice to the unit and the supervising office.

Events of the issues service may arrive in any order (one durable per subject), so the issue
that reminders need is a projection folded per attribute: each attribute keeps the version of
the event that last set it, and an older event never overwrites a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from services.notify.domain.notices import NoticeType, OfficeRole, PlannedNotice, Recipient

__all__ = [
    "REMINDER_LEAD",
    "IssueChange",
    "IssueFacts",
    "IssueState",
    "TrackedIssue",
    "due_reminder",
    "overdue_notices",
    "supervision_notice",
    "track",
]

REMINDER_LEAD = timedelta(hours=24)  # R5.1


class IssueState(StrEnum):
    """R2.3 states, as far as reminders care."""

    OPEN = "open"
    RECTIFIED = "rectified"
    VERIFIED = "verified"
    REOPENED = "reopened"
    VOID = "void"


@dataclass(frozen=True, kw_only=True)
class IssueFacts:
    """What the notices of one issue say (R2.1)."""

    issue_id: str
    number: str
    unit_id: str
    category: str
    description: str
    address: str
    deadline: datetime


def _numbers(facts: IssueFacts) -> tuple[tuple[str, str], ...]:
    return (
        ("issue_number", facts.number),
        ("unit_id", facts.unit_id),
        ("category", facts.category),
        ("deadline", facts.deadline.isoformat()),
    )


def supervision_notice(facts: IssueFacts) -> PlannedNotice:
    """R2.2/R5.1: reporting an issue issues the supervision notice (督办通知书) to its unit."""
    return PlannedNotice(
        type=NoticeType.SUPERVISION,
        recipient=Recipient(unit_id=facts.unit_id),
        about=f"issue:{facts.issue_id}",
        key_numbers=(
            *_numbers(facts),
            ("description", facts.description),
            ("address", facts.address),
        ),
    )


def overdue_notices(facts: IssueFacts, version: int) -> list[PlannedNotice]:
    """R5.1/R2.4: the overdue notice, to the unit and to the supervising office. ``version``
    tells one entry into the overdue condition from the next (a reopened issue can enter it
    again), so each entry is notified once."""
    about = f"issue:{facts.issue_id}@v{version}"
    numbers = _numbers(facts)
    return [
        PlannedNotice(type=NoticeType.OVERDUE, recipient=r, about=about, key_numbers=numbers)
        for r in (Recipient(unit_id=facts.unit_id), Recipient(role=OfficeRole.CAMPAIGN_OFFICE))
    ]


@dataclass(frozen=True, kw_only=True)
class IssueChange:
    """One issues.v1 event as the projection sees it; ``None`` leaves an attribute alone."""

    version: int
    state: IssueState | None = None
    unit_id: str | None = None
    deadline: datetime | None = None
    details: IssueFacts | None = None  # only the report carries them


@dataclass(frozen=True, kw_only=True)
class TrackedIssue:
    """The projection: each attribute with the version of the event that set it."""

    issue_id: str
    state: IssueState = IssueState.OPEN
    state_version: int = 0
    unit_id: str | None = None
    unit_version: int = 0
    deadline: datetime | None = None
    deadline_version: int = 0
    details: IssueFacts | None = None

    @property
    def facts(self) -> IssueFacts | None:
        """The issue's facts with its current unit and deadline, once the report is known."""
        if self.details is None or self.unit_id is None or self.deadline is None:
            return None
        return replace(self.details, unit_id=self.unit_id, deadline=self.deadline)


def track(issue: TrackedIssue, change: IssueChange) -> TrackedIssue:
    """Apply one event, in any order and any number of times: the same set of events always
    gives the same projection."""
    out = issue
    if change.details is not None and out.details is None:
        out = replace(out, details=change.details)
    if change.state is not None and change.version > out.state_version:
        out = replace(out, state=change.state, state_version=change.version)
    if change.unit_id is not None and change.version > out.unit_version:
        out = replace(out, unit_id=change.unit_id, unit_version=change.version)
    if change.deadline is not None and change.version > out.deadline_version:
        out = replace(out, deadline=change.deadline, deadline_version=change.version)
    return out


def due_reminder(
    issue: TrackedIssue, reminded_for: datetime | None, now: datetime
) -> PlannedNotice | None:
    """R5.1: the reminder owed at ``now``, if any: the issue is still open (or reopened), its
    deadline is less than 24 h away but not past, and no reminder went out for this deadline
    (an extended deadline, R2.6, earns a reminder of its own)."""
    facts = issue.facts
    if facts is None or issue.state not in (IssueState.OPEN, IssueState.REOPENED):
        return None
    if reminded_for == facts.deadline:
        return None
    if not facts.deadline - REMINDER_LEAD <= now < facts.deadline:
        return None
    return PlannedNotice(
        type=NoticeType.REMINDER,
        recipient=Recipient(unit_id=facts.unit_id),
        about=f"issue:{facts.issue_id}@{facts.deadline.isoformat()}",
        key_numbers=(*_numbers(facts), ("hours_left", str(_hours_left(facts.deadline, now)))),
    )


def _hours_left(deadline: datetime, now: datetime) -> int:
    """Whole hours to the deadline, rounded up (a notice saying 0 h would be wrong)."""
    seconds = (deadline - now).total_seconds()
    return max(1, -int(-seconds // 3600))
