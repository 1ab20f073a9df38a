"""Backfill (R2.1): replay a historical issue's transitions through the same decisions as live
ones, so an imported history that breaks R2.3 is refused exactly as a live command would be.

Overdue spells (R2.4) are replayed too: before each transition, and at the end, an issue that
was open past its deadline gets its overdue event at the first instant after the deadline (or
at its last change, if later), so the live scheduler does not emit it again at import time.
These events are marked ``imported``: they record the past and call for no notice now (R5.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from services.issues.domain.errors import InvalidCommand
from services.issues.domain.issue_events import IssueEvent
from services.issues.domain.lifecycle import (
    Issue,
    decide_extension,
    inspect,
    is_overdue,
    overdue_transition,
    rectify,
    request_extension,
    transfer,
    void,
)
from services.issues.domain.units import Unit

__all__ = ["HistoricalStep", "StepKind", "replay"]

StepKind = Literal["rectified", "pass", "fail", "void", "transfer", "extended"]
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, kw_only=True)
class HistoricalStep:
    """One recorded transition at its original time; ``extended`` is an approved extension
    (its request and approval at the same instant)."""

    kind: StepKind
    at: datetime
    evidence: tuple[str, ...] = ()
    note: str = ""
    reason: str = ""
    to_unit: Unit | None = None
    deadline: datetime | None = None


def replay(
    issue: Issue, steps: Sequence[HistoricalStep], now: datetime
) -> tuple[Issue, list[IssueEvent]]:
    """Apply ``steps`` in order to the freshly reported ``issue``; returns the final issue and
    every event after the report. Raises a `DomainError` at the first step R2.3 forbids."""
    events: list[IssueEvent] = []
    for step in steps:
        if step.at > now:
            raise InvalidCommand(f"a historical transition at {step.at.isoformat()} is ahead")
        issue = _catch_up_overdue(issue, step.at, events)
        for issue_after, event in _apply(issue, step):
            issue = issue_after
            events.append(event)
    return _catch_up_overdue(issue, now, events), events


def _apply(issue: Issue, step: HistoricalStep) -> list[tuple[Issue, IssueEvent]]:
    match step.kind:
        case "rectified":
            return [rectify(issue, step.at, step.evidence)]
        case "pass" | "fail":
            return [inspect(issue, step.at, step.kind == "pass", step.note)]
        case "void":
            return [void(issue, step.at, step.reason)]
        case "transfer":
            if step.to_unit is None:
                raise InvalidCommand("a transfer names the unit that takes the issue")
            return [transfer(issue, step.to_unit, step.at, step.reason)]
        case "extended":
            if step.deadline is None:
                raise InvalidCommand("an extension names its new deadline")
            asked, request = request_extension(issue, step.at, step.deadline, step.reason)
            decided, approval = decide_extension(asked, step.at, True, step.note)
            return [(asked, request), (decided, approval)]


def _catch_up_overdue(issue: Issue, until: datetime, events: list[IssueEvent]) -> Issue:
    if not is_overdue(issue, until):
        return issue
    entered = max(issue.deadline + _TICK, issue.updated_at)
    found = overdue_transition(issue, entered)
    if found is None:
        return issue
    # R2.1/R5.1: a replayed spell is history; notify sends no overdue notice for it.
    events.append(replace(found[1], imported=True))
    return found[0]
