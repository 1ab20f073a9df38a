"""Assessment scores entered by the office (实地考评, R4.2): one at a time or a whole file.

They are not stored here directly: they are published on ``assessments.v1.scored`` (through the
outbox) like the scores of other systems, and reach the projection from the stream, so a
rebuild from the streams sees every score.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, field_validator

from services.contracts.assessments import AssessmentScored, Month
from services.contracts.base import Contract, DecimalText, ShortText, UnitId
from services.runtime.service import ServiceRuntime


class ScoreIn(Contract):
    """R4.2: a unit's score (0-100) for a month; ``recorded_at`` only for an office backfill of
    historical scores with their original recorded time (defaults to now)."""

    unit_id: UnitId
    month: Month
    score: DecimalText
    source: ShortText = "office"
    recorded_at: AwareDatetime | None = None

    @field_validator("score")
    @classmethod
    def _within_0_100(cls, score: str) -> str:
        if not Decimal(0) <= Decimal(score) <= Decimal(100):
            raise ValueError("a score is between 0 and 100 (R4.2)")
        return score


class ImportRejected(Exception):
    """An import with at least one bad row: nothing was recorded (HTTP 422 with the report)."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(report["detail"])
        self.report = report


def scored_event(data: ScoreIn, at: datetime, event_id: UUID) -> AssessmentScored:
    """The ``assessments.v1.scored`` event for one score."""
    return AssessmentScored(
        event_id=event_id,
        occurred_at=data.recorded_at or at,
        producer="ranking",
        aggregate_id=f"{data.unit_id}/{data.month}",
        aggregate_version=1,
        unit_id=data.unit_id,
        month=data.month,
        score=data.score,
        source=data.source,
    )


async def record_scores(
    runtime: ServiceRuntime,
    scores: Sequence[ScoreIn],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    new_id: Callable[[], UUID] = uuid.uuid4,
) -> list[AssessmentScored]:
    """Publish every score in one transaction (all or nothing)."""
    at = now()
    events = [scored_event(score, at, new_id()) for score in scores]
    async with runtime.transaction() as conn:
        await runtime.commit(conn, events)
    return events


async def record_score(runtime: ServiceRuntime, data: ScoreIn) -> dict[str, Any]:
    """R4.2: publish one score."""
    (event,) = await record_scores(runtime, [data])
    return event.model_dump(mode="json", by_alias=True)
