"""Builders of ``ranking.v1.edition_published`` test events (contract models, canonical wire)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from services.contracts.ranking import (
    Categories,
    CategoryBoard,
    Counts,
    EditionPublished,
    Exact,
    RankedUnit,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNTS = Counts(
    reported=10, rectified=9, rate=None, overdue=0, rework=0, on_time=9, on_time_rate=None
)


def exact(score: str) -> Exact:
    """R7: ``"9031/100"`` beside its display rounded half up to 2 places."""
    value = Fraction(score)
    shown = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    return Exact(exact=f"{value.numerator}/{value.denominator}", display=f"{shown}")


def board(
    scores: dict[str, str],
    red: tuple[str, ...] = (),
    black: tuple[str, ...] = (),
    names: dict[str, str] | None = None,
) -> CategoryBoard:
    """A category's ranking: ``scores`` maps unit ids to their composite, best first;
    ``names`` gives units a (Chinese) name, else the name is the id."""
    ordered = sorted(scores, key=lambda u: -Fraction(scores[u]))
    rows = [
        RankedUnit(
            **COUNTS.model_dump(),
            unit_id=unit_id,
            name=(names or {}).get(unit_id, unit_id),
            parent_id=None,
            rank=rank,
            bottom_rank=len(ordered) - rank + 1,
            composite=exact(scores[unit_id]),
            score=None,
        )
        for rank, unit_id in enumerate(ordered, start=1)
    ]
    return CategoryBoard(rows=rows, red=list(red), black=list(black))


def edition(
    year: int,
    number: int,
    *,
    revision: int = 1,
    department: CategoryBoard | None = None,
    district: CategoryBoard | None = None,
    town: CategoryBoard | None = None,
) -> EditionPublished:
    """One revision of an edition whose cutoff is a Monday 00:00 (Asia/Shanghai) of ``year``."""
    monday = date(year, 1, 5 + (7 - date(year, 1, 5).weekday()) % 7)
    cutoff = datetime.combine(monday, time(0), tzinfo=SHANGHAI)
    empty = board({})
    return EditionPublished(
        event_id=uuid.uuid4(),
        occurred_at=cutoff,
        producer="ranking",
        aggregate_id=f"edition-{year}-{number}",
        aggregate_version=revision,
        year=year,
        number=number,
        revision=revision,
        cutoff=cutoff,
        published_at=cutoff,
        rule_version="2025.1",
        input_positions={"ISSUES": 1},
        categories=Categories(
            department=department or empty,
            district=district or empty,
            town=town or empty,
        ),
        campaign=COUNTS,
    )
