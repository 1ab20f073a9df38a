"""Small builders for ranking facts, so tests read as the situation they describe."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from services.ranking.domain.issues import IssueFact, IssueKind
from services.ranking.domain.scores import AssessmentScore
from services.ranking.domain.units import Category, UnitEventKind, UnitFact

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2018-06-04 00:00 Asia/Shanghai, a scheduled cutoff (R4.1).
CUTOFF = datetime(2018, 6, 4, tzinfo=SHANGHAI)
EARLY = datetime(2018, 5, 1, 9, tzinfo=SHANGHAI)


def at(days: float) -> datetime:
    """An instant ``days`` after EARLY."""
    return EARLY + timedelta(days=days)


def registered(
    unit_id: str,
    category: Category = Category.DEPARTMENT,
    *,
    name: str | None = None,
    parent_id: str | None = None,
    when: datetime = EARLY - timedelta(days=30),
    version: int = 1,
) -> UnitFact:
    return UnitFact(
        unit_id=unit_id,
        kind=UnitEventKind.REGISTERED,
        occurred_at=when,
        aggregate_version=version,
        name=name or f"单位{unit_id}",
        category=category,
        parent_id=parent_id,
    )


def unit_event(unit_id: str, kind: UnitEventKind, when: datetime, version: int) -> UnitFact:
    return UnitFact(unit_id=unit_id, kind=kind, occurred_at=when, aggregate_version=version)


def reported(
    issue_id: str,
    unit_id: str,
    *,
    when: datetime = EARLY,
    deadline: datetime | None = None,
    occurred_at: datetime | None = None,
) -> IssueFact:
    return IssueFact(
        issue_id=issue_id,
        kind=IssueKind.REPORTED,
        occurred_at=occurred_at or when,
        aggregate_version=1,
        unit_id=unit_id,
        reported_at=when,
        deadline=deadline or when + timedelta(days=3),
    )


def issue_event(
    issue_id: str,
    kind: IssueKind,
    when: datetime,
    version: int,
    *,
    unit_id: str | None = None,
    deadline: datetime | None = None,
) -> IssueFact:
    return IssueFact(
        issue_id=issue_id,
        kind=kind,
        occurred_at=when,
        aggregate_version=version,
        unit_id=unit_id,
        deadline=deadline,
    )


def issues_for(
    unit_id: str, reported_count: int, rectified_count: int, prefix: str | None = None
) -> list[IssueFact]:
    """``reported_count`` issues of ``unit_id``, the first ``rectified_count`` rectified on time."""
    facts: list[IssueFact] = []
    for n in range(reported_count):
        issue_id = f"{prefix or unit_id}-{n}"
        facts.append(reported(issue_id, unit_id))
        if n < rectified_count:
            facts.append(issue_event(issue_id, IssueKind.RECTIFIED, at(1), 2))
    return facts


def score(
    unit_id: str,
    value: Fraction | int | str,
    month: tuple[int, int] = (2018, 5),
    *,
    when: datetime = EARLY,
    event_id: str | None = None,
) -> AssessmentScore:
    return AssessmentScore(
        event_id=event_id or f"score-{unit_id}-{month[0]}-{month[1]}-{when.isoformat()}",
        unit_id=unit_id,
        month=month,
        score=value,
        occurred_at=when,
    )
