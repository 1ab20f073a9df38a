"""Notices triggered by other services' events: issues (R5.1) and allocations (R5.4), and the
reminder scheduler (R5.1). Events arrive in any order and more than once: each is applied
once (``apply_once``) and every planned notice has a unique key per channel."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.nats import NatsMessage

from services.contracts import issues as wire
from services.contracts.incentives import Allocated
from services.runtime.db import Conn

from . import issue_tracking as tracked
from .domain.award_notices import AllocationSummary, Award, allocation_notices
from .domain.issue_notices import (
    IssueChange,
    IssueFacts,
    IssueState,
    due_reminder,
    overdue_notices,
    supervision_notice,
    track,
)
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
_STATES = {
    "issues.v1.rectified": IssueState.RECTIFIED,
    "issues.v1.verified": IssueState.VERIFIED,
    "issues.v1.reopened": IssueState.REOPENED,
    "issues.v1.voided": IssueState.VOID,
}


def _consumer(subject: str) -> str:
    return "notify-" + subject.replace(".", "-")


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


@dataclass
class Triggers:
    service: NotifyService

    async def issue_reported(self, event: wire.IssueReported, msg: NatsMessage) -> bool:
        """R5.1/R2.2: the supervision notice, and the issue tracked for its reminder."""

        async def apply(conn: Conn) -> None:
            facts = _facts(event)
            change = IssueChange(
                version=event.aggregate_version,
                state=IssueState.OPEN,
                unit_id=event.unit_id,
                deadline=event.deadline,
                details=facts,
            )
            issue = await tracked.load(conn, event.issue_id)
            await tracked.save(conn, track(issue, change))
            if not event.imported:  # a backfilled ledger (R2.1) was notified long ago
                await self.service.plan_notices(conn, event.event_id, [supervision_notice(facts)])

        return await self.service.runtime.apply_once(_consumer(event.SUBJECT), event, msg, apply)

    async def issue_changed(self, event: IssueFact, msg: NatsMessage) -> bool:
        """R5.1: a fix, a void, a transfer or an extension changes the reminder owed."""

        async def apply(conn: Conn) -> None:
            issue = await tracked.load(conn, event.issue_id)
            await tracked.save(conn, track(issue, _change(event)))

        return await self.service.runtime.apply_once(_consumer(event.SUBJECT), event, msg, apply)

    async def issue_overdue(self, event: wire.IssueOverdue, msg: NatsMessage) -> bool:
        """R5.1/R2.4: the overdue notice to the unit and to the supervising office.

        A backfilled issue's historical overdue period (R2.1 ``imported``) was handled by the
        office long before this system existed: it sends nothing (the event is still marked
        applied, so a redelivery stays a duplicate)."""

        async def apply(conn: Conn) -> None:
            if event.imported:  # R5.1/R2.1: no notice for a backfilled ledger's past
                return
            known = (await tracked.load(conn, event.issue_id)).details
            facts = IssueFacts(
                issue_id=str(event.issue_id),
                number=event.number,
                unit_id=event.unit_id,
                category=known.category if known else "—",
                description=known.description if known else "—",
                address=known.address if known else "—",
                deadline=event.deadline,
            )
            notices = overdue_notices(facts, event.aggregate_version)
            await self.service.plan_notices(conn, event.event_id, notices)

        return await self.service.runtime.apply_once(_consumer(event.SUBJECT), event, msg, apply)

    async def allocated(self, event: Allocated, msg: NatsMessage) -> bool:
        """R5.4: award notices and the finance office's summary of one settlement."""
        summary = AllocationSummary(
            year=event.year,
            edition=event.edition,
            revision=event.revision,
            pool=event.pool,
            fund=event.fund,
            allocated_total=event.allocated_total,
            remaining=event.remaining,
            awards=tuple(Award(unit_id=a.unit_id, fen=a.fen, kind=a.kind) for a in event.awards),
        )

        async def apply(conn: Conn) -> None:
            notices = allocation_notices(summary)
            await self.service.plan_notices(conn, event.event_id, notices)

        return await self.service.runtime.apply_once(_consumer(event.SUBJECT), event, msg, apply)

    async def remind_due(self, limit: int) -> int:
        """R5.1: plan the reminders whose time has come, once per deadline; returns how many."""
        service = self.service
        now = service.now()
        async with service.runtime.transaction() as conn:
            planned = 0
            for issue, reminded_for in await tracked.claim_reminders(conn, now, limit):
                notice = due_reminder(issue, reminded_for, now)
                if notice is not None and issue.deadline is not None:
                    event_id = service.new_id()
                    await service.plan_notices(conn, event_id, [notice])
                    await tracked.mark_reminded(conn, issue.issue_id, issue.deadline)
                    planned += 1
            return planned
