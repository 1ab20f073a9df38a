"""The life of an issue (督查问题, R2): pure decisions over a frozen `Issue`.

Each decision takes the current issue and a command, and returns the new issue together with the
event that records it (version = old version + 1), or raises a `DomainError` and changes nothing
(R2.3). States:

    open ──rectify──▶ rectified ──pass──▶ verified
      ▲                  │ fail             │ fail
      └──── reopened ◀───┴──────────────────┘          (reopened behaves like open)
    any non-void state ──void──▶ void (final)

Every event's ``at`` must not be earlier than the issue's last change, so the event log of one
issue is in time order and a fold "as of T" (R3) sees the same history the decisions saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.issues.domain.deadlines import DEFAULT_TIME_LIMIT, deadline_for
from services.issues.domain.errors import (
    InvalidCommand,
    InvalidDeadline,
    InvalidTransition,
)
from services.issues.domain.instants import require_aware, require_plausible
from services.issues.domain.issue_events import (
    DeadlineExtended,
    ExtensionRefused,
    ExtensionRequested,
    IssueBecameOverdue,
    IssueDetails,
    IssueRectified,
    IssueReopened,
    IssueReported,
    IssueTransferred,
    IssueVerified,
    IssueVoided,
)
from services.issues.domain.numbering import parse_issue_number
from services.issues.domain.units import Unit

__all__ = [
    "Issue",
    "IssueState",
    "deadline_for",
    "decide_extension",
    "inspect",
    "is_overdue",
    "overdue_transition",
    "overdue_transitions",
    "rectify",
    "report",
    "request_extension",
    "transfer",
    "void",
]


class IssueState(StrEnum):
    """R2.3 states."""

    OPEN = "open"
    RECTIFIED = "rectified"
    VERIFIED = "verified"
    REOPENED = "reopened"
    VOID = "void"


_TO_RECTIFY = frozenset({IssueState.OPEN, IssueState.REOPENED})


@dataclass(frozen=True, kw_only=True)
class Issue:
    """An issue's current state.

    ``overdue_emitted`` says whether the overdue event has been emitted for the overdue spell the
    issue is in now (R2.4); it is cleared by any change that ends the spell. ``updated_at`` is the
    time of the last event. ``requested_deadline`` is a pending extension request (R2.6).
    """

    issue_id: UUID
    number: str
    unit_id: str
    category: str
    found_at: datetime
    reported_at: datetime
    deadline: datetime
    state: IssueState
    rework_count: int
    version: int
    first_rectified_at: datetime | None
    imported: bool
    updated_at: datetime
    details: IssueDetails
    overdue_emitted: bool = False
    requested_deadline: datetime | None = None


def report(
    *,
    issue_id: UUID,
    number: str,
    unit: Unit,
    category: str,
    found_at: datetime,
    reported_at: datetime,
    details: IssueDetails,
    deadline: datetime | None,
    limits: Mapping[str, timedelta],
    default_limit: timedelta = DEFAULT_TIME_LIMIT,
    imported: bool = False,
) -> tuple[Issue, IssueReported]:
    """R2.1/R2.2: accept a report for an active unit; the deadline follows `deadline_for`.

    ``reported_at`` is the acceptance time (the caller's clock), or the historical time for an
    office backfill, which is then marked ``imported``. The event occurs at ``reported_at``.
    """
    require_plausible(reported_at, "reported_at")
    require_plausible(found_at, "found_at")
    if deadline is not None:
        require_plausible(deadline, "deadline")
    try:
        parse_issue_number(number)
    except ValueError as exc:
        raise InvalidCommand(str(exc)) from None
    if not unit.active:
        raise InvalidCommand(f"unit {unit.unit_id!r} is inactive and cannot be given issues")
    if not category.strip():
        raise InvalidCommand("an issue needs a category")
    due = deadline_for(found_at, category, deadline, limits, default_limit)
    if found_at > reported_at:
        raise InvalidCommand("an issue cannot be found after it was reported")
    issue = Issue(
        issue_id=issue_id,
        number=number,
        unit_id=unit.unit_id,
        category=category,
        found_at=found_at,
        reported_at=reported_at,
        deadline=due,
        state=IssueState.OPEN,
        rework_count=0,
        version=1,
        first_rectified_at=None,
        imported=imported,
        updated_at=reported_at,
        details=details,
    )
    event = IssueReported(
        issue_id=issue_id,
        unit_id=unit.unit_id,
        occurred_at=reported_at,
        version=1,
        number=number,
        category=category,
        found_at=found_at,
        reported_at=reported_at,
        deadline=due,
        imported=imported,
        details=details,
    )
    return issue, event


def rectify(issue: Issue, at: datetime, evidence: Sequence[str]) -> tuple[Issue, IssueRectified]:
    """R2.3: ``open``/``reopened`` → ``rectified``; the unit must show evidence.

    ``first_rectified_at`` is set once and never moved (R3.5: a later reopening does not undo
    "on time").
    """
    _require_state(issue, _TO_RECTIFY, "rectify")
    proof = tuple(item.strip() for item in evidence if item.strip())
    if not proof:
        raise InvalidCommand("rectification needs evidence")
    first = issue.first_rectified_at or at
    new = _advance(issue, at, state=IssueState.RECTIFIED, first_rectified_at=first)
    return new, IssueRectified(**_common(new), evidence=proof, first_rectified_at=first)


def inspect(
    issue: Issue, at: datetime, passed: bool, note: str
) -> tuple[Issue, IssueVerified | IssueReopened]:
    """R2.3 回头看: a pass moves ``rectified`` → ``verified``; a failure moves ``rectified`` or
    ``verified`` → ``reopened`` and adds 1 to ``rework_count``. The deadline is kept."""
    if passed:
        _require_state(issue, {IssueState.RECTIFIED}, "pass")
        new = _advance(issue, at, state=IssueState.VERIFIED)
        return new, IssueVerified(**_common(new), note=note)
    _require_state(issue, {IssueState.RECTIFIED, IssueState.VERIFIED}, "fail")
    new = _advance(issue, at, state=IssueState.REOPENED, rework_count=issue.rework_count + 1)
    return new, IssueReopened(
        **_common(new), note=note, rework_count=new.rework_count, deadline=new.deadline
    )


def void(issue: Issue, at: datetime, reason: str) -> tuple[Issue, IssueVoided]:
    """R2.3: office only, with a reason; allowed from every non-void state and final."""
    _require_state(issue, set(IssueState) - {IssueState.VOID}, "void")
    why = _required_text(reason, "voiding needs a reason")
    new = _advance(issue, at, state=IssueState.VOID, requested_deadline=None)
    return new, IssueVoided(**_common(new), reason=why, previous_state=str(issue.state))


def transfer(
    issue: Issue, to_unit: Unit, at: datetime, reason: str
) -> tuple[Issue, IssueTransferred]:
    """R2.6 转办: move a non-void issue to another active unit, keeping ``reported_at`` and the
    deadline. A pending extension request belonged to the old unit and is dropped with it."""
    _require_state(issue, set(IssueState) - {IssueState.VOID}, "transfer")
    why = _required_text(reason, "a transfer needs a reason")
    if to_unit.unit_id == issue.unit_id:
        raise InvalidCommand(f"issue {issue.number} already belongs to {to_unit.unit_id!r}")
    if not to_unit.active:
        raise InvalidCommand(f"unit {to_unit.unit_id!r} is inactive and cannot take issues")
    new = _advance(issue, at, unit_id=to_unit.unit_id, requested_deadline=None)
    return new, IssueTransferred(**_common(new), from_unit_id=issue.unit_id, reason=why)


def request_extension(
    issue: Issue, at: datetime, requested_deadline: datetime, reason: str
) -> tuple[Issue, ExtensionRequested]:
    """R2.6 延期: while the issue is still to be rectified, its unit asks for a later deadline.

    One request at a time: the office must decide before the unit asks again.
    """
    _require_state(issue, _TO_RECTIFY, "request_extension")
    why = _required_text(reason, "an extension request needs a reason")
    require_plausible(requested_deadline, "requested_deadline")
    if issue.requested_deadline is not None:
        raise InvalidCommand(f"issue {issue.number} already has an extension request pending")
    if requested_deadline <= issue.deadline:
        raise InvalidDeadline("an extension must ask for a deadline later than the current one")
    new = _advance(issue, at, requested_deadline=requested_deadline)
    return new, ExtensionRequested(
        **_common(new), requested_deadline=requested_deadline, reason=why
    )


def decide_extension(
    issue: Issue, at: datetime, approved: bool, note: str
) -> tuple[Issue, DeadlineExtended | ExtensionRefused]:
    """R2.6: the office approves (the requested deadline replaces the deadline from ``at`` on)
    or refuses the pending request. An approval can end an overdue spell (R2.4)."""
    _require_state(issue, set(IssueState) - {IssueState.VOID}, "decide_extension")
    requested = issue.requested_deadline
    if requested is None:
        raise InvalidCommand(f"issue {issue.number} has no extension request to decide")
    if approved:
        new = _advance(issue, at, deadline=requested, requested_deadline=None)
        return new, DeadlineExtended(
            **_common(new), previous_deadline=issue.deadline, deadline=requested, note=note
        )
    new = _advance(issue, at, requested_deadline=None)
    return new, ExtensionRefused(**_common(new), requested_deadline=requested, note=note)


def is_overdue(issue: Issue, now: datetime) -> bool:
    """R2.4: ``open`` or ``reopened`` strictly after its deadline (at the deadline: on time)."""
    return issue.state in _TO_RECTIFY and require_aware(now, "now") > issue.deadline


def overdue_transition(issue: Issue, now: datetime) -> tuple[Issue, IssueBecameOverdue] | None:
    """R2.4: the overdue event if the issue has entered the condition and it was not yet emitted.

    The flag ``overdue_emitted`` makes the event once per entry, however often the poller asks:
    it is set here and cleared by the change that ends the spell (rectify, void, an extension to a
    later deadline), so a reopening after the deadline, or a new deadline passing, emits again.
    A spell that ends before any poll sees it emits nothing: the unit has already acted. A poll
    older than the issue's last change decides nothing (the next one will).
    """
    if issue.overdue_emitted or now < issue.updated_at or not is_overdue(issue, now):
        return None
    new = replace(issue, version=issue.version + 1, updated_at=now, overdue_emitted=True)
    return new, IssueBecameOverdue(**_common(new), deadline=new.deadline)


def overdue_transitions(
    issues: Iterable[Issue], now: datetime
) -> list[tuple[Issue, IssueBecameOverdue]]:
    """R2.4 for a batch (one poll): the issues that have just become overdue, by issue id."""
    found = (overdue_transition(issue, now) for issue in issues)
    return sorted((t for t in found if t is not None), key=lambda t: t[0].issue_id)


def _require_state(issue: Issue, allowed: Iterable[IssueState], attempted: str) -> None:
    if issue.state not in set(allowed):
        raise InvalidTransition(str(issue.state), attempted)


def _required_text(text: str, message: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise InvalidCommand(message)
    return stripped


def _advance(issue: Issue, at: datetime, **changes: Any) -> Issue:
    """The next version of ``issue`` at ``at``, keeping the overdue flag only while it holds."""
    require_aware(at, "at")
    if at < issue.updated_at:
        raise InvalidCommand(
            f"issue {issue.number} last changed at {issue.updated_at.isoformat()}; "
            f"an event at {at.isoformat()} would rewrite its history"
        )
    new = replace(issue, version=issue.version + 1, updated_at=at, **changes)
    return replace(new, overdue_emitted=issue.overdue_emitted and is_overdue(new, at))


def _common(issue: Issue) -> dict[str, Any]:
    """The fields every event takes from the issue after the change."""
    return {
        "issue_id": issue.issue_id,
        "unit_id": issue.unit_id,
        "occurred_at": issue.updated_at,
        "version": issue.version,
    }
