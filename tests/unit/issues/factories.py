"""Small builders for issues-domain tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.issues.domain.issue_events import IssueDetails
from services.issues.domain.lifecycle import Issue, report
from services.issues.domain.units import Category, Unit

T0 = datetime(2018, 6, 4, 9, 0, tzinfo=UTC)
ISSUE_ID = UUID("00000000-0000-4000-8000-000000000001")
DETAILS = IssueDetails(
    point_type="farmers_market",
    description="占道经营",
    address="江门市蓬江区建设路",
    inspector="李明",
    team="第一督查组",
    photos=("https://example.org/p/1.jpg",),
)


def unit(unit_id: str = "dept-urban", category: Category = Category.DEPARTMENT) -> Unit:
    return Unit(
        unit_id=unit_id,
        name="市城管局",
        category=category,
        parent_id=None,
        active=True,
        version=1,
    )


def reported(deadline_days: int = 3, to: Unit | None = None) -> Issue:
    issue, _ = report(
        issue_id=ISSUE_ID,
        number="JM-2018-000123",
        unit=to or unit(),
        category="占道经营",
        found_at=T0,
        reported_at=T0 + timedelta(hours=1),
        details=DETAILS,
        deadline=T0 + timedelta(days=deadline_days),
        limits={},
    )
    return issue
