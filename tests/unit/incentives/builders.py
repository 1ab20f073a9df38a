"""Builders for settlement tests: editions and red-listed units with readable defaults."""

from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from services.incentives.domain.settlement import EditionSummary, RedListedUnit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def red(unit_id: str, score: int | Fraction, category: str = "department") -> RedListedUnit:
    return RedListedUnit(unit_id=unit_id, category=category, score=Fraction(score))


def edition(
    number: int,
    *units: RedListedUnit,
    revision: int = 1,
    black: frozenset[str] = frozenset(),
    year: int = 2018,
) -> EditionSummary:
    return EditionSummary(
        year=year,
        number=number,
        revision=revision,
        cutoff=datetime(year, 1, 8, tzinfo=SHANGHAI) + timedelta(weeks=number - 1),
        rule_version="v1",
        event_id=f"evt-{year}-{number}-{revision}",
        red=units,
        black=black,
    )
