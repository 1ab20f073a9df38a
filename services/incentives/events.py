"""Contract events ↔ domain: ``ranking.v1.edition_published`` in, ``incentives.v1.allocated``
out."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from uuid import UUID
from zoneinfo import ZoneInfo

from services.contracts.incentives import Allocated, UnitAward
from services.contracts.ranking import CategoryBoard, EditionPublished
from services.contracts.streams import RANKING
from services.runtime.failures import InvalidMessage

from .domain.calendar import campaign_year
from .domain.settlement import EditionSummary, RedListedUnit, Settlement

PRODUCER = "incentives"


def edition_summary(event: EditionPublished, tz: ZoneInfo) -> EditionSummary:
    """What settlement needs from an edition (R6.2, R6.3): each red-listed unit with its
    category and exact composite ``s`` (R7 ``"n/d"``), and every black-listed unit id.

    An edition that contradicts itself can never be settled: ``InvalidMessage`` (dead letter).
    """
    if campaign_year(event.cutoff, tz) != event.year:
        raise InvalidMessage(f"year {event.year} is not the campaign year of cutoff (R4.1)")
    boards: dict[str, CategoryBoard] = {
        "department": event.categories.department,
        "district": event.categories.district,
        "town": event.categories.town,
    }
    red: list[RedListedUnit] = []
    black: set[str] = set()
    for category, board in boards.items():
        composites = {row.unit_id: row.composite.exact for row in board.rows}
        for unit_id in board.red:
            if unit_id not in composites:
                raise InvalidMessage(f"red-listed {unit_id!r} is not ranked in {category}")
            red.append(RedListedUnit(unit_id, category, _fraction(composites[unit_id])))
        black.update(board.black)
    try:
        return EditionSummary(
            year=event.year,
            number=event.number,
            revision=event.revision,
            cutoff=event.cutoff,
            rule_version=event.rule_version,
            event_id=str(event.event_id),
            red=tuple(red),
            black=frozenset(black),
        )
    except ValueError as exc:
        raise InvalidMessage(str(exc)) from exc


def unit_directory(event: EditionPublished) -> dict[str, tuple[str, str]]:
    """R1.1 as the edition gives it: each ranked unit's (name, category), for the exports."""
    boards = event.categories
    return {
        row.unit_id: (row.name, category)
        for category, board in (
            ("department", boards.department),
            ("district", boards.district),
            ("town", boards.town),
        )
        for row in board.rows
    }


def _fraction(text: str) -> Fraction:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError) as exc:
        raise InvalidMessage(f"composite {text!r} is not an exact fraction (R7)") from exc


def allocated_event(
    settlement: Settlement,
    edition: EditionSummary,
    *,
    fund: int,
    allocated_total: int,
    version: int,
    event_id: UUID,
    occurred_at: datetime,
    stream_seq: int | None,
) -> Allocated:
    """R6.2-R6.4: what this settlement moved; aggregate ``fund-<year>`` at ``version``."""
    return Allocated(
        event_id=event_id,
        occurred_at=occurred_at,
        producer=PRODUCER,
        aggregate_id=f"fund-{edition.year}",
        aggregate_version=version,
        year=edition.year,
        edition=edition.number,
        revision=edition.revision,
        rule_version=edition.rule_version,
        pool=settlement.pool,
        awards=[UnitAward(unit_id=e.unit_id, fen=e.fen, kind=e.kind) for e in settlement.entries],
        fund=fund,
        allocated_total=allocated_total,
        remaining=settlement.remaining,
        cutoff=edition.cutoff,
        input_positions=None if stream_seq is None else {RANKING.name: stream_seq},
    )
