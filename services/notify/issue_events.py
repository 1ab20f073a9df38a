"""Notify's consumers of issue events (R5.1): the fetched batches waiting, one transaction.

Every issue event moves the projection the reminders read (``tracked_issues``); a report also
plans the supervision notice and an overdue event the overdue notices. One durable per subject,
as before, and each is a batch subscriber (`runtime.batches.BatchApplier`): at a city's pace
(a thousand events a second in the benchmark) a transaction and FastStream's per-message path
per event cost notify most of a core. A batch records its events as applied, locks the issues
it touches, folds the events in memory with the pure `track` and writes back each issue and
every planned delivery together. Events arrive in any order and more than once: `track` keeps
the newest value of each attribute, processed ids drop a redelivery and every planned notice
has a unique key per channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from nats.aio.msg import Msg

from services.contracts import issues as wire
from services.runtime.db import Conn
from services.runtime.inbox import first_deliveries
from services.runtime.positions import stream_position_of

from . import issue_tracking as tracked
from .domain.issue_notices import (
    IssueChange,
    IssueFacts,
    IssueState,
    TrackedIssue,
    overdue_notices,
    supervision_notice,
    track,
)
from .domain.notices import PlannedNotice
from .use_cases import NotifyService

# Events that only move the projection the reminders read.
IssueFact = (
    wire.IssueRectified
    | wire.IssueVerified
    | wire.IssueReopened
    | wire.IssueVoided
    | wire.IssueTransferred
    | wire.DeadlineExtended
)
IssueEvent = wire.IssueReported | wire.IssueOverdue | IssueFact
# The subjects notify consumes, one durable each (their order is the AsyncAPI document's).
SUBJECTS: tuple[type[IssueEvent], ...] = (
    wire.IssueReported,
    wire.IssueOverdue,
    wire.IssueRectified,
    wire.IssueVerified,
    wire.IssueReopened,
    wire.IssueVoided,
    wire.IssueTransferred,
    wire.DeadlineExtended,
)
_STATES = {
    "issues.v1.rectified": IssueState.RECTIFIED,
    "issues.v1.verified": IssueState.VERIFIED,
    "issues.v1.reopened": IssueState.REOPENED,
    "issues.v1.voided": IssueState.VOID,
}


def consumer_of(subject: str) -> str:
    """The durable, and the processed-id consumer, of one subject."""
    return "notify-" + subject.replace(".", "-")


@dataclass(frozen=True)
class Arrived:
    """One decoded message: the event and its stream sequence."""

    event: IssueEvent
    seq: int | None


def decoder(model: type[IssueEvent]) -> Callable[[Msg], Arrived]:
    """A message of ``model``'s subject -> the event, validated against its contract (an
    invalid one is dead-lettered with the reason)."""

    def decode(msg: Msg) -> Arrived:
        return Arrived(model.model_validate_json(msg.data), stream_position_of(msg)[1])

    return decode


def _facts(event: wire.IssueReported) -> IssueFacts:
    return IssueFacts(
        issue_id=str(event.issue_id),
        number=event.number,
        unit_id=event.unit_id,
        category=event.category,
        description=event.description,
        address=event.location.address,
        deadline=event.deadline,
    )


def _change(event: IssueFact) -> IssueChange:
    deadline = event.deadline if isinstance(event, wire.DeadlineExtended) else None
    unit = event.unit_id if isinstance(event, wire.IssueTransferred) else None
    return IssueChange(
        version=event.aggregate_version,
        state=_STATES.get(event.type),
        unit_id=unit,
        deadline=deadline,
    )


def _overdue_facts(event: wire.IssueOverdue, known: IssueFacts | None) -> IssueFacts:
    return IssueFacts(
        issue_id=str(event.issue_id),
        number=event.number,
        unit_id=event.unit_id,
        category=known.category if known else "—",
        description=known.description if known else "—",
        address=known.address if known else "—",
        deadline=event.deadline,
    )


def fold(
    issues: dict[str, TrackedIssue], events: Sequence[IssueEvent]
) -> list[tuple[UUID, list[PlannedNotice]]]:
    """Apply ``events`` (each once) to ``issues`` in place; returns the notices each plans.

    R5.1/R2.2: a report tracks the issue and plans its supervision notice; R5.1/R2.4: an
    overdue event plans the overdue notices to the unit and the office; every other event only
    moves the projection. A backfilled ledger (R2.1 ``imported``) was notified long ago: its
    reports and historical overdue periods are tracked but plan nothing."""
    planned: list[tuple[UUID, list[PlannedNotice]]] = []
    for event in events:
        key = str(event.issue_id)
        issue = issues[key]
        if isinstance(event, wire.IssueReported):
            facts = _facts(event)
            change = IssueChange(
                version=event.aggregate_version,
                state=IssueState.OPEN,
                unit_id=event.unit_id,
                deadline=event.deadline,
                details=facts,
            )
            issues[key] = track(issue, change)
            if not event.imported:
                planned.append((event.event_id, [supervision_notice(facts)]))
        elif isinstance(event, wire.IssueOverdue):
            if not event.imported:
                facts = _overdue_facts(event, issue.details)
                planned.append((event.event_id, overdue_notices(facts, event.aggregate_version)))
        else:
            issues[key] = track(issue, _change(event))
    return planned


@dataclass
class IssueEvents:
    """The apply step of notify's issue consumers (`BatchApplier`)."""

    service: NotifyService

    async def apply(self, conn: Conn, arrived: Sequence[Arrived]) -> None:
        """One batch, all or nothing, in the caller's transaction."""
        by_consumer: dict[str, list[Arrived]] = {}
        for a in arrived:
            by_consumer.setdefault(consumer_of(a.event.SUBJECT), []).append(a)
        fresh: list[IssueEvent] = []
        for consumer, group in by_consumer.items():
            ids = [(a.event.event_id, a.event.SUBJECT, a.seq) for a in group]
            new = await first_deliveries(conn, consumer, ids)
            for a in group:
                if a.event.event_id in new:
                    new.discard(a.event.event_id)  # a message twice in the batch: once
                    fresh.append(a.event)
        if not fresh:
            return
        issues = await tracked.load_many(conn, sorted({e.issue_id for e in fresh}))
        before = dict(issues)
        planned = fold(issues, fresh)
        await tracked.save_many(conn, [i for k, i in issues.items() if i != before[k]])
        await self.service.plan_many(conn, planned)
