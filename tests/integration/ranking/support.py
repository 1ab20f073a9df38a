"""Builders of the events ranking consumes, and waiting for its projection."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from services.contracts import issues as iw
from services.contracts.base import to_wire
from services.contracts.envelope import Event
from services.contracts.units import UnitRegistered
from services.ranking.projection import Delivery, apply_deliveries
from services.ranking.scheduler import WeeklySchedule
from services.runtime.db import Pool
from services.runtime.service import ServiceRuntime


@dataclass
class Ranking:
    client: httpx.AsyncClient
    js: Any
    runtime: ServiceRuntime
    schedule: WeeklySchedule

    async def publish(self, *events: Event) -> int:
        """Publish on the streams as the issues service would; returns the last sequence."""
        seq = 0
        for event in events:
            ack = await self.js.publish(
                event.SUBJECT, to_wire(event), headers={"Nats-Msg-Id": str(event.event_id)}
            )
            seq = ack.seq
        return seq

    async def caught_up(self, stream: str, seq: int, cutoff: datetime) -> dict[str, Any]:
        """Preview until the projection has applied ``stream`` up to ``seq``."""
        for _ in range(300):
            preview = await self.client.post(
                "/v1/editions/preview", json={"cutoff": cutoff.isoformat()}
            )
            assert preview.status_code == 200, preview.text
            if preview.json()["input_positions"].get(stream, 0) >= seq:
                return dict(preview.json())
            await asyncio.sleep(0.05)
        raise AssertionError(f"projection did not reach {stream} #{seq}")


def unit(unit_id: str, when: datetime, category: str = "department") -> UnitRegistered:
    return UnitRegistered(
        event_id=uuid.uuid4(),
        occurred_at=when,
        producer="issues",
        aggregate_id=unit_id,
        aggregate_version=1,
        unit_id=unit_id,
        name=f"单位{unit_id[-4:]}",
        category=category,
    )


def reported(unit_id: str, when: datetime, n: int) -> iw.IssueReported:
    issue_id = uuid.uuid4()
    return iw.IssueReported(
        event_id=uuid.uuid4(),
        occurred_at=when,
        producer="issues",
        aggregate_id=str(issue_id),
        aggregate_version=1,
        issue_id=issue_id,
        number=f"JM-{when.year}-{n:06d}",
        unit_id=unit_id,
        category="暴露垃圾",
        point_type="community",
        description="小区门口垃圾未清理",
        location=iw.Location(address="江门市蓬江区"),
        found_at=when,
        reported_at=when,
        deadline=when + timedelta(days=3),
        inspector="张三",
        team="第一督查组",
    )


def rectified(issue: iw.IssueReported, when: datetime) -> iw.IssueRectified:
    return iw.IssueRectified(
        event_id=uuid.uuid4(),
        occurred_at=when,
        producer="issues",
        aggregate_id=issue.aggregate_id,
        aggregate_version=2,
        issue_id=issue.issue_id,
        unit_id=issue.unit_id,
        evidence=["https://photos.example/fixed.jpg"],
    )


async def apply_shuffled(
    pool: Pool, deliveries: list[Delivery], rng: random.Random, largest: int = 150
) -> None:
    """Apply ``deliveries`` as the group-committing consumer may: in random batches of up to
    ``largest``, out of order, a tenth of them delivered twice."""
    mixed = deliveries + rng.sample(deliveries, len(deliveries) // 10)
    rng.shuffle(mixed)
    while mixed:
        size = rng.randrange(1, largest)
        batch, mixed = mixed[:size], mixed[size:]
        async with pool.connection() as conn, conn.transaction():
            await apply_deliveries(conn, batch)
