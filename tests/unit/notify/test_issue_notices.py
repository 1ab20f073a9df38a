"""R5.1: supervision notice on report, reminder 24 h before the deadline, overdue notice to the
unit and the supervising office; the issue projection takes events in any order."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain.issue_notices import (
    IssueChange,
    IssueFacts,
    IssueState,
    TrackedIssue,
    due_reminder,
    overdue_notices,
    supervision_notice,
    track,
)
from services.notify.domain.notices import NoticeType, OfficeRole, Recipient

DEADLINE = datetime(2018, 5, 5, 1, tzinfo=UTC)
FACTS = IssueFacts(
    issue_id="i-1",
    number="JM-2018-000123",
    unit_id="dist-pengjiang",
    category="暴露垃圾",
    description="小区门口垃圾未清理",
    address="建设路",
    deadline=DEADLINE,
)
REPORTED = IssueChange(
    version=1, state=IssueState.OPEN, unit_id=FACTS.unit_id, deadline=DEADLINE, details=FACTS
)


def test_a_report_sends_the_supervision_notice_with_number_and_deadline() -> None:
    notice = supervision_notice(FACTS)
    numbers = dict(notice.key_numbers)
    assert notice.type is NoticeType.SUPERVISION
    assert notice.recipient == Recipient(unit_id="dist-pengjiang")
    assert numbers["issue_number"] == "JM-2018-000123"
    assert numbers["deadline"] == DEADLINE.isoformat()


def test_overdue_goes_to_the_unit_and_the_supervising_office_once_per_entry() -> None:
    first = overdue_notices(FACTS, version=3)
    assert [n.recipient for n in first] == [
        Recipient(unit_id="dist-pengjiang"),
        Recipient(role=OfficeRole.CAMPAIGN_OFFICE),
    ]
    again = overdue_notices(FACTS, version=3)
    later = overdue_notices(FACTS, version=6)  # reopened after the deadline (R2.4)
    assert [n.key for n in first] == [n.key for n in again]
    assert not {n.key for n in first} & {n.key for n in later}


def test_the_reminder_is_due_within_24_hours_of_the_deadline_while_open() -> None:
    issue = track(TrackedIssue(issue_id="i-1"), REPORTED)
    assert due_reminder(issue, None, DEADLINE - timedelta(hours=25)) is None
    reminder = due_reminder(issue, None, DEADLINE - timedelta(hours=23, minutes=30))
    assert reminder is not None and reminder.type is NoticeType.REMINDER
    assert dict(reminder.key_numbers)["hours_left"] == "24"
    assert due_reminder(issue, DEADLINE, DEADLINE - timedelta(hours=1)) is None  # sent already
    assert due_reminder(issue, None, DEADLINE) is None  # overdue now: that is another notice


def test_no_reminder_for_a_rectified_or_void_issue() -> None:
    for state in (IssueState.RECTIFIED, IssueState.VERIFIED, IssueState.VOID):
        issue = track(
            track(TrackedIssue(issue_id="i-1"), REPORTED), IssueChange(version=2, state=state)
        )
        assert due_reminder(issue, None, DEADLINE - timedelta(hours=2)) is None


def test_an_extended_deadline_earns_a_reminder_of_its_own() -> None:
    later = DEADLINE + timedelta(days=3)
    issue = track(
        track(TrackedIssue(issue_id="i-1"), REPORTED), IssueChange(version=2, deadline=later)
    )
    assert due_reminder(issue, DEADLINE, later - timedelta(hours=2)) is not None


def test_a_transfer_reminds_the_new_unit() -> None:
    moved = track(
        track(TrackedIssue(issue_id="i-1"), REPORTED), IssueChange(version=2, unit_id="dept-cgj")
    )
    reminder = due_reminder(moved, None, DEADLINE - timedelta(hours=2))
    assert reminder is not None and reminder.recipient == Recipient(unit_id="dept-cgj")


_CHANGES = [
    REPORTED,
    IssueChange(version=2, state=IssueState.RECTIFIED),
    IssueChange(version=3, state=IssueState.REOPENED),
    IssueChange(version=4, deadline=DEADLINE + timedelta(days=2)),
    IssueChange(version=5, unit_id="dept-cgj"),
]


@given(st.randoms(use_true_random=False), st.integers(0, 3))
def test_any_order_or_repetition_of_events_gives_the_same_projection(
    rnd: random.Random, repeats: int
) -> None:
    events = _CHANGES + _CHANGES[:repeats]
    rnd.shuffle(events)
    issue = TrackedIssue(issue_id="i-1")
    for change in events:
        issue = track(issue, change)
    assert (issue.state, issue.unit_id, issue.deadline) == (
        IssueState.REOPENED,
        "dept-cgj",
        DEADLINE + timedelta(days=2),
    )
    assert issue.details == FACTS
