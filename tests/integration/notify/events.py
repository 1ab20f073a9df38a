"""Events of other services, as notify receives them (issues R5.1, incentives R5.4)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.contracts.base import to_wire
from services.contracts.envelope import Event
from services.contracts.incentives import Allocated, UnitAward
from services.contracts.issues import IssueOverdue, IssueRectified, IssueReported, Location

_NUMBERS = itertools.count(1)


def reported(unit_id: str, deadline_in: timedelta) -> IssueReported:
    now = datetime.now(UTC)
    issue_id = uuid.uuid4()
    return IssueReported(
        event_id=uuid.uuid4(),
        occurred_at=now,
        producer="issues",
        aggregate_id=str(issue_id),
        aggregate_version=1,
        issue_id=issue_id,
        number=f"JM-2099-{next(_NUMBERS):06d}",
        unit_id=unit_id,
        category="暴露垃圾",
        point_type="community",
        description="小区门口垃圾未清理",
        location=Location(address="江门市蓬江区建设路"),
        found_at=now,
        reported_at=now,
        deadline=now + deadline_in,
        inspector="张三",
        team="第一督查组",
    )


def overdue(issue: IssueReported, version: int = 2, imported: bool = False) -> IssueOverdue:
    return IssueOverdue(
        imported=imported,
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        producer="issues",
        aggregate_id=str(issue.issue_id),
        aggregate_version=version,
        issue_id=issue.issue_id,
        unit_id=issue.unit_id,
        number=issue.number,
        deadline=issue.deadline,
    )


def rectified(issue: IssueReported, version: int = 2) -> IssueRectified:
    return IssueRectified(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        producer="issues",
        aggregate_id=str(issue.issue_id),
        aggregate_version=version,
        issue_id=issue.issue_id,
        unit_id=issue.unit_id,
        evidence=["https://photos.example/1.jpg"],
    )


def allocated(year: int, awards: dict[str, int]) -> Allocated:
    total = sum(awards.values())
    return Allocated(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        producer="incentives",
        aggregate_id=f"fund-{year}",
        aggregate_version=1,
        year=year,
        edition=1,
        revision=1,
        rule_version="v1",
        pool=total,
        awards=[UnitAward(unit_id=u, fen=f, kind="allocation") for u, f in awards.items()],
        fund=800_000_000,
        allocated_total=total,
        remaining=800_000_000 - total,
    )


async def publish_event(js: Any, event: Event, msg_id: str | None = None) -> None:
    headers = {"Nats-Msg-Id": msg_id or str(event.event_id)}
    await js.publish(event.SUBJECT, to_wire(event), headers=headers)
