"""R5.1/R2.1: what a batch of issue events does to the projection the reminders read and which
notices it plans (``issue_events.fold``, no servers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.contracts import issues as wire
from services.notify.domain.issue_notices import IssueState, TrackedIssue
from services.notify.domain.notices import NoticeType
from services.notify.issue_events import IssueEvent, fold

ISSUE = uuid.UUID(int=7)
FOUND = datetime(2018, 5, 2, 1, tzinfo=UTC)
DEADLINE = FOUND + timedelta(days=3)


def _envelope(version: int, at: datetime = FOUND) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "occurred_at": at,
        "producer": "issues",
        "aggregate_id": str(ISSUE),
        "aggregate_version": version,
        "issue_id": ISSUE,
    }


def reported(imported: bool = False) -> wire.IssueReported:
    return wire.IssueReported(
        **_envelope(1),
        number="JM-2018-000123",
        unit_id="dist-pengjiang",
        category="暴露垃圾",
        point_type="community",
        description="小区门口垃圾未清理",
        location=wire.Location(address="江门市蓬江区"),
        found_at=FOUND,
        reported_at=FOUND,
        deadline=DEADLINE,
        inspector="张三",
        team="第一督查组",
        imported=imported,
    )


def overdue(imported: bool = False, version: int = 2) -> wire.IssueOverdue:
    return wire.IssueOverdue(
        **_envelope(version, DEADLINE + timedelta(hours=1)),
        unit_id="dist-pengjiang",
        number="JM-2018-000123",
        deadline=DEADLINE,
        imported=imported,
    )


def transferred(version: int) -> wire.IssueTransferred:
    return wire.IssueTransferred(
        **_envelope(version), unit_id="dist-jianghai", from_unit_id="dist-pengjiang", reason="错派"
    )


def extended(version: int) -> wire.DeadlineExtended:
    return wire.DeadlineExtended(
        **_envelope(version),
        unit_id="dist-jianghai",
        previous_deadline=DEADLINE,
        deadline=DEADLINE + timedelta(days=7),
    )


def rectified(version: int) -> wire.IssueRectified:
    return wire.IssueRectified(
        **_envelope(version), unit_id="dist-jianghai", evidence=["https://photos.example/a.jpg"]
    )


def _fresh() -> dict[str, TrackedIssue]:
    return {str(ISSUE): TrackedIssue(issue_id=str(ISSUE))}


def test_a_report_tracks_the_issue_and_plans_its_supervision_notice() -> None:
    issues = _fresh()
    event = reported()
    planned = fold(issues, [event])
    assert [(e, [n.type for n in ns]) for e, ns in planned] == [
        (event.event_id, [NoticeType.SUPERVISION])
    ]
    issue = issues[str(ISSUE)]
    assert (issue.state, issue.unit_id, issue.deadline) == (
        IssueState.OPEN,
        "dist-pengjiang",
        DEADLINE,
    )
    assert issue.details is not None and issue.details.address == "江门市蓬江区"


def test_a_backfilled_report_is_tracked_but_plans_no_notice() -> None:
    issues = _fresh()
    assert fold(issues, [reported(imported=True)]) == []  # R2.1: notified long ago
    assert issues[str(ISSUE)].details is not None


def test_a_live_overdue_issue_notifies_the_unit_and_the_office() -> None:
    issues = _fresh()
    fold(issues, [reported()])
    ((_, notices),) = fold(issues, [overdue()])
    assert [n.type for n in notices] == [NoticeType.OVERDUE, NoticeType.OVERDUE]
    assert {str(n.recipient) for n in notices} == {"unit:dist-pengjiang", "office:campaign_office"}
    assert dict(notices[0].key_numbers)["category"] == "暴露垃圾"  # known from the report


def test_a_backfilled_issues_historical_overdue_sends_no_notice() -> None:
    # R5.1/R2.1: an imported ledger's past overdue periods were handled long ago.
    assert fold(_fresh(), [overdue(imported=True)]) == []


def test_an_overdue_before_its_report_still_notifies_with_what_it_carries() -> None:
    ((_, notices),) = fold(_fresh(), [overdue()])
    assert dict(notices[0].key_numbers)["category"] == "—"


@given(st.permutations(range(4)))
def test_the_projection_does_not_depend_on_the_order_events_arrive_in(order: list[int]) -> None:
    events: list[IssueEvent] = [reported(), transferred(2), extended(3), rectified(4)]
    issues = _fresh()
    fold(issues, [events[i] for i in order])
    issue = issues[str(ISSUE)]
    assert (issue.state, issue.unit_id, issue.deadline) == (
        IssueState.RECTIFIED,
        "dist-jianghai",
        DEADLINE + timedelta(days=7),
    )
