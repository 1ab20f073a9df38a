"""Assessment scores entered by the office (实地考评, R4.2): one at a time or a whole file.

They are not stored here directly: they are published on ``assessments.v1.scored`` (through the
outbox) like the scores of other systems, and reach the projection from the stream, so a
rebuild from the streams sees every score.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, field_validator

from services.contracts.assessments import AssessmentScored, Month
from services.contracts.base import Contract, DecimalText, ShortText, UnitId
from services.contracts.streams import ISSUES
from services.runtime.service import ServiceRuntime

from .domain.payload import instant_text
from .progress import wait_caught_up

# How long a score waits for the projection of the unit directory to reach the ISSUES stream's
# last sequence, so that a unit registered a moment ago is known.
UNITS_CATCH_UP_SECONDS = 5.0


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


class ScoreRefused(Exception):
    """A well-formed score that cannot be recorded (HTTP 422 with the field and reason)."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = list(errors)


class ImportRejected(Exception):
    """An import with at least one bad row: nothing was recorded (HTTP 422 with the report)."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(report["detail"])
        self.report = report


@dataclass(frozen=True)
class KnownUnits:
    """The units of the directory as ranking's projection knows them (R1.2), and how far the
    projection was behind the ISSUES stream when they were read."""

    ids: Collection[str]
    lag: int = 0


async def known_units(runtime: ServiceRuntime) -> KnownUnits:
    """Every unit ever registered, once the projection has caught up with ISSUES (bounded)."""
    _, missing = await wait_caught_up(runtime, UNITS_CATCH_UP_SECONDS, (ISSUES,))
    async with runtime.pool.connection() as conn:
        cur = await conn.execute("SELECT DISTINCT unit_id FROM unit_facts")
        ids = {row["unit_id"] for row in await cur.fetchall()}
    return KnownUnits(ids, missing.get(ISSUES.name, 0))


def score_problems(score: ScoreIn, now: datetime, units: KnownUnits) -> tuple[tuple[str, str], ...]:
    """Why ``score`` cannot be recorded at ``now``: a recorded time in the future (R4.2: a
    score counts from when it was recorded; a future time would let it into editions before it
    existed), or a unit the directory does not know (its score would never be ranked)."""
    problems: list[tuple[str, str]] = []
    if score.recorded_at is not None and score.recorded_at > now:
        problems.append(
            (
                "recorded_at",
                f"{instant_text(score.recorded_at)} is in the future (now {instant_text(now)});"
                " a score cannot be recorded before it is given (R4.2)",
            )
        )
    if score.unit_id not in units.ids:
        lag = (
            f"; ranking's copy of the directory is {units.lag} messages behind, retry shortly"
            if units.lag
            else ""
        )
        problems.append(("unit_id", f"unknown unit {score.unit_id!r} (R1.2){lag}"))
    return tuple(problems)


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


async def record_score(
    runtime: ServiceRuntime,
    data: ScoreIn,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """R4.2: publish one score, unless `score_problems` finds a reason not to
    (`ScoreRefused`)."""
    units = await known_units(runtime)
    at = now()
    if problems := score_problems(data, at, units):
        raise ScoreRefused(problems)
    (event,) = await record_scores(runtime, [data], lambda: at)
    return event.model_dump(mode="json", by_alias=True)
