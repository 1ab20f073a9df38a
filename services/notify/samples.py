"""Sample notices, one per type, for ``GET /v1/templates/{type}/preview``."""

from __future__ import annotations

from datetime import UTC, datetime

from .domain.award_notices import AllocationSummary, Award, allocation_notices
from .domain.escalation import EditionKey, TalkLevel
from .domain.issue_notices import IssueFacts, TrackedIssue, due_reminder, overdue_notices
from .domain.issue_notices import supervision_notice as _supervision
from .domain.notices import NoticeType, PlannedNotice, Recipient

_ISSUE = IssueFacts(
    issue_id="00000000-0000-4000-8000-000000000123",
    number="JM-2018-000123",
    unit_id="dist-pengjiang",
    category="暴露垃圾",
    description="小区门口垃圾未清理",
    address="江门市蓬江区建设路",
    deadline=datetime(2018, 5, 5, 1, tzinfo=UTC),
)
_EDITION = EditionKey(year=2018, number=22)
_FIGURES = (
    ("category", "district"),
    ("rank", "3"),
    ("score", "9031/100"),
    ("score_display", "90.31"),
    ("reported", "3440"),
    ("rectified", "3107"),
    ("overdue", "12"),
    ("rework", "4"),
    ("rate", "3107/3440"),
    ("rate_display", "90.32"),
)
_ALLOCATION = AllocationSummary(
    year=2018,
    edition=22,
    revision=1,
    pool=15_094_339,
    fund=800_000_000,
    allocated_total=332_075_458,
    remaining=467_924_542,
    awards=(
        Award(unit_id="dist-pengjiang", fen=8_000_000, kind="allocation"),
        Award(unit_id="dept-cgj", fen=7_094_339, kind="allocation"),
    ),
)


def _edition_notice(type_: NoticeType, **extra: object) -> PlannedNotice:
    unit = Recipient(unit_id="dist-pengjiang")
    return PlannedNotice(type=type_, recipient=unit, edition=_EDITION, **extra)  # type: ignore[arg-type]


def sample(type_: NoticeType) -> PlannedNotice:
    """A realistic notice of ``type_``."""
    streak = (("consecutive_black", "2"),)
    match type_:
        case NoticeType.SUPERVISION:
            return _supervision(_ISSUE)
        case NoticeType.REMINDER:
            issue = TrackedIssue(
                issue_id=_ISSUE.issue_id,
                unit_id=_ISSUE.unit_id,
                deadline=_ISSUE.deadline,
                details=_ISSUE,
            )
            reminder = due_reminder(issue, None, datetime(2018, 5, 4, 9, tzinfo=UTC))
            assert reminder is not None
            return reminder
        case NoticeType.OVERDUE:
            return overdue_notices(_ISSUE, 3)[0]
        case NoticeType.AWARD | NoticeType.FINANCE_SUMMARY:
            return next(n for n in allocation_notices(_ALLOCATION) if n.type is type_)
        case NoticeType.CRITICISM:
            return _edition_notice(type_, key_numbers=_FIGURES + streak)
        case NoticeType.TALK:
            return _edition_notice(
                type_, key_numbers=streak, talk_level=TalkLevel.ORGANISATION_DEPARTMENT
            )
        case NoticeType.CORRECTION:
            return _edition_notice(
                type_,
                revision=2,
                talk_level=TalkLevel.CITY_LEADER,
                withdraws=NoticeType.CRITICISM,
                withdrawn_revision=1,
            )
    return _edition_notice(type_, key_numbers=_FIGURES)
