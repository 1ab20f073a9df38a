"""Notices triggered by allocations (R5.4), and the reminder scheduler (R5.1); the issue
events' are in `issue_events`. Events arrive in any order and more than once: each is applied
once (``apply_once``) and every planned notice has a unique key per channel."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.nats import NatsMessage

from services.contracts.incentives import Allocated
from services.runtime.db import Conn

from . import issue_tracking as tracked
from .domain.award_notices import AllocationSummary, Award, allocation_notices
from .domain.issue_notices import due_reminder
from .issue_events import consumer_of
from .use_cases import NotifyService


@dataclass
class Triggers:
    service: NotifyService

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

        return await self.service.runtime.apply_once(consumer_of(event.SUBJECT), event, msg, apply)

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
