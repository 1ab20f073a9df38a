"""``assessments.v1.scored``: monthly on-site assessment scores (实地考评, R4.2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import StringConstraints, field_validator

from .base import DecimalText, ShortText, UnitId
from .envelope import Event

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class AssessmentScored(Event):
    """R4.2: unit ``unit_id`` scored ``score`` (0-100, exact decimal string) for ``month``.

    A later-recorded score for the same unit and month replaces the earlier one; ``occurred_at``
    is when it was recorded.
    """

    SUBJECT = "assessments.v1.scored"
    type: Literal["assessments.v1.scored"] = "assessments.v1.scored"
    unit_id: UnitId
    month: Month
    score: DecimalText
    source: ShortText

    @field_validator("score")
    @classmethod
    def _within_0_100(cls, score: str) -> str:
        if not Decimal(0) <= Decimal(score) <= Decimal(100):
            raise ValueError("a score is between 0 and 100 (R4.2)")
        return score
