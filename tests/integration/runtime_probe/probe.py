"""A minimal service on the real runtime, to test delivery guarantees in isolation.

It consumes ``assessments.v1.scored`` and records each applied score; ``fail_times`` makes the
handler raise for a unit's first N deliveries.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from faststream.nats import NatsMessage

from services.contracts.assessments import AssessmentScored
from services.contracts.base import to_wire
from services.contracts.streams import ASSESSMENTS
from services.runtime.db import Conn
from services.runtime.service import ServiceRuntime
from services.runtime.settings import ServiceSettings


class ProbeSettings(ServiceSettings):
    pass


class Probe:
    def __init__(self) -> None:
        self.name = f"probe_{uuid.uuid4().hex[:8]}"
        settings = ProbeSettings(nak_delays_seconds=(0.2,), max_deliver=3, fetch_batch=50)
        self.runtime = ServiceRuntime(
            self.name, settings, Path(__file__).parent / "migrations", (ASSESSMENTS,)
        )
        self.fail_times: dict[str, int] = {}
        self.always_fail: set[str] = set()
        self.database_down_times: dict[str, int] = {}
        self.broken_invariant: set[str] = set()
        self.deliveries: Counter[str] = Counter()
        sub = self.runtime.bus.subscriber(AssessmentScored)
        sub(self.on_scored)

    async def on_scored(self, event: AssessmentScored, msg: NatsMessage) -> None:
        self.deliveries[event.unit_id] += 1
        if event.unit_id in self.always_fail:
            raise RuntimeError("probe handler always fails")
        if self.deliveries[event.unit_id] <= self.database_down_times.get(event.unit_id, 0):
            raise psycopg.OperationalError("connection refused (simulated outage)")
        if event.unit_id in self.broken_invariant:
            AssessmentScored.model_validate({"unit_id": event.unit_id})  # our bug, not input
        if self.deliveries[event.unit_id] <= self.fail_times.get(event.unit_id, 0):
            raise RuntimeError("probe handler fails this time")

        async def apply(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO applied (event_id, unit_id, score) VALUES (%s, %s, %s)",
                (event.event_id, event.unit_id, event.score),
            )

        await self.runtime.apply_once(self.name, event, msg, apply)

    async def applied(self, unit_id: str) -> list[dict[str, object]]:
        async with self.runtime.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM applied WHERE unit_id = %s", (unit_id,))
            return list(await cur.fetchall())


def scored(unit_id: str, score: str = "88.5") -> AssessmentScored:
    return AssessmentScored(
        event_id=uuid.uuid4(),
        occurred_at=datetime(2018, 5, 2, tzinfo=UTC),
        producer="test",
        aggregate_id=unit_id,
        aggregate_version=1,
        unit_id=unit_id,
        month="2018-04",
        score=score,
        source="test",
    )


def wire(event: AssessmentScored) -> bytes:
    return to_wire(event)


@contextlib.asynccontextmanager
async def running() -> AsyncIterator[Probe]:
    """A started probe (its settings from the environment), stopped afterwards."""
    probe = Probe()
    await probe.runtime.start()
    try:
        yield probe
    finally:
        await probe.runtime.stop()
