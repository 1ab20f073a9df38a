"""Monthly on-site assessment scores (实地考评, R4.2) and which one an edition uses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from services.ranking.domain.facts import dedupe
from services.ranking.domain.instants import Month, require_aware
from services.ranking.domain.numbers import as_fraction

__all__ = ["AssessmentScore", "scores_as_of"]


@dataclass(frozen=True, kw_only=True)
class AssessmentScore:
    """One `assessments.v1.scored` event: unit ``unit_id`` scored ``score`` for ``month``.

    ``score`` may be given as a Fraction, Decimal, int or exact string and is held as a Fraction
    in [0, 100] (R4.2); floats are refused (R4.3 "compute exactly").
    """

    event_id: str
    unit_id: str
    month: Month
    score: Fraction
    occurred_at: datetime

    def __init__(
        self,
        *,
        event_id: str,
        unit_id: str,
        month: Month,
        score: Fraction | Decimal | int | str,
        occurred_at: datetime,
    ) -> None:
        exact_score = as_fraction(score)
        if not 0 <= exact_score <= 100:
            raise ValueError(f"assessment score must be in [0, 100], got {exact_score}")
        year, month_number = month
        if not 1 <= month_number <= 12:
            raise ValueError(f"month must be 1..12, got {month_number}")
        # Frozen dataclass: the normalised values are set once, here.
        object.__setattr__(self, "event_id", event_id)
        object.__setattr__(self, "unit_id", unit_id)
        object.__setattr__(self, "month", (int(year), int(month_number)))
        object.__setattr__(self, "score", exact_score)
        object.__setattr__(self, "occurred_at", require_aware(occurred_at, "occurred_at"))


def scores_as_of(
    scores: Iterable[AssessmentScore], at: datetime, month_of_at: Month
) -> dict[str, AssessmentScore]:
    """R4.2: per unit, the score an edition with cutoff ``at`` uses.

    Among the unit's scores recorded at or before ``at`` (``occurred_at <= at``) whose month is at
    or before ``month_of_at`` (the month of T in Asia/Shanghai, see `instants.month_of`), the one
    with the latest month. For the same unit and month the later-recorded score replaces the
    earlier one: later ``occurred_at`` wins, then the larger ``event_id`` so that two scores
    recorded in the same instant still give one answer whatever order they arrive in. A score
    recorded after ``at`` is never seen, so it can only reach a later edition.
    """
    require_aware(at, "at")
    chosen: dict[str, AssessmentScore] = {}
    for score in dedupe(scores, lambda s: s.event_id, "assessment score"):
        if score.occurred_at > at or score.month > month_of_at:
            continue
        best = chosen.get(score.unit_id)
        if best is None or _precedence(score) > _precedence(best):
            chosen[score.unit_id] = score
    return dict(sorted(chosen.items()))


def _precedence(score: AssessmentScore) -> tuple[Month, datetime, str]:
    return (score.month, score.occurred_at, score.event_id)
