"""``ranking.v1.edition_published`` → the domain's `EditionSummary` (R4.1, R4.5, R7)."""

from __future__ import annotations

from fractions import Fraction

from services.contracts.ranking import CategoryBoard, EditionPublished

from .domain.notices import EditionSummary, RankedUnit


def _boards(event: EditionPublished) -> dict[str, CategoryBoard]:
    c = event.categories
    return {"department": c.department, "district": c.district, "town": c.town}


def edition_summary(event: EditionPublished) -> EditionSummary:
    """R7: exact fractions from the wire; the composite is the ranking score (R4.3)."""
    ranked: list[RankedUnit] = []
    red: set[str] = set()
    black: set[str] = set()
    for category, board in _boards(event).items():
        red.update(board.red)
        black.update(board.black)
        ranked += [
            RankedUnit(
                unit_id=row.unit_id,
                category=category,
                rank=row.rank,
                score=Fraction(row.composite.exact),
                rate=None if row.rate is None else Fraction(row.rate.exact),
                reported=row.reported,
                rectified=row.rectified,
                overdue=row.overdue,
                rework=row.rework,
            )
            for row in board.rows
        ]
    return EditionSummary(
        year=event.year,
        number=event.number,
        revision=event.revision,
        cutoff=event.cutoff,
        rule_version=event.rule_version,
        ranked=tuple(ranked),
        red=frozenset(red),
        black=frozenset(black),
    )


def unit_names(event: EditionPublished) -> dict[str, str]:
    """Display names of the ranked units, for the notice texts."""
    return {row.unit_id: row.name for board in _boards(event).values() for row in board.rows}
