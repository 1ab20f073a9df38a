"""R5.1/R2.1: the issue triggers on a fake runtime (no servers): what each event plans."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from services.contracts.issues import IssueOverdue
from services.notify import issue_tracking
from services.notify.domain.issue_notices import TrackedIssue
from services.notify.domain.notices import NoticeType, PlannedNotice
from services.notify.triggers import Triggers
from services.notify.use_cases import NotifyService

DEADLINE = datetime(2018, 5, 5, 1, tzinfo=UTC)


@dataclass
class _Runtime:
    async def apply_once(
        self, consumer: str, event: Any, msg: Any, apply: Callable[[Any], Awaitable[Any]]
    ) -> bool:
        await apply(object())
        return True


@dataclass
class _Service:
    runtime: _Runtime = field(default_factory=_Runtime)
    planned: list[PlannedNotice] = field(default_factory=list)

    async def plan_notices(self, conn: Any, event_id: Any, notices: list[PlannedNotice]) -> None:
        self.planned += notices


def _overdue(imported: bool) -> IssueOverdue:
    issue_id = uuid.uuid4()
    return IssueOverdue(
        event_id=uuid.uuid4(),
        occurred_at=DEADLINE + timedelta(hours=1),
        producer="issues",
        aggregate_id=str(issue_id),
        aggregate_version=2,
        issue_id=issue_id,
        unit_id="dist-pengjiang",
        number="JM-2018-000123",
        deadline=DEADLINE,
        imported=imported,
    )


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> _Service:
    async def load(conn: Any, issue_id: Any) -> TrackedIssue:
        return TrackedIssue(issue_id=str(issue_id))

    monkeypatch.setattr(issue_tracking, "load", load)
    return _Service()


async def test_a_live_overdue_issue_notifies_the_unit_and_the_office(service: _Service) -> None:
    triggers = Triggers(cast(NotifyService, service))
    assert await triggers.issue_overdue(_overdue(imported=False), cast(Any, None))
    assert [n.type for n in service.planned] == [NoticeType.OVERDUE, NoticeType.OVERDUE]


async def test_a_backfilled_issues_historical_overdue_sends_no_notice(service: _Service) -> None:
    # R5.1/R2.1: an imported ledger's past overdue periods were handled long ago.
    triggers = Triggers(cast(NotifyService, service))
    assert await triggers.issue_overdue(_overdue(imported=True), cast(Any, None))
    assert service.planned == []
