"""Assessment scores entered by the office (实地考评, R4.2).

They are not stored here directly: they are published on ``assessments.v1.scored`` (through the
outbox) like the scores of other systems, and reach the projection from the stream, so a
rebuild from the streams sees every score.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime

from services.contracts.assessments import AssessmentScored, Month
from services.contracts.base import Contract, DecimalText, ShortText, UnitId
from services.runtime.service import ServiceRuntime


class ScoreIn(Contract):
    """R4.2: a unit's score for a month; ``recorded_at`` only for an office backfill of
    historical scores (defaults to now)."""

    unit_id: UnitId
    month: Month
    score: DecimalText
    source: ShortText = "office"
    recorded_at: AwareDatetime | None = None


async def record_score(
    runtime: ServiceRuntime,
    data: ScoreIn,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    new_id: Callable[[], UUID] = uuid.uuid4,
) -> dict[str, Any]:
    """Publish the score; the contract rejects a score outside [0, 100]."""
    event = AssessmentScored(
        event_id=new_id(),
        occurred_at=data.recorded_at or now(),
        producer="ranking",
        aggregate_id=f"{data.unit_id}/{data.month}",
        aggregate_version=1,
        unit_id=data.unit_id,
        month=data.month,
        score=data.score,
        source=data.source,
    )
    async with runtime.transaction() as conn:
        await runtime.commit(conn, [event])
    return event.model_dump(mode="json", by_alias=True)
