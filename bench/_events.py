"""Synthetic issue events as the issues service would publish them (a unit registered per 100
events, then issues reported and 90% of them rectified), for benchmarks that load the ISSUES
stream without going through the issues service."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.contracts import issues as iw
from services.contracts.base import to_wire
from services.contracts.units import UnitRegistered

START = datetime(2018, 1, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))


def unit_ids(count: int, prefix: str) -> list[str]:
    return [f"{prefix}-u{i:05d}" for i in range(count)]


def synthetic_events(count: int, prefix: str, seed: int) -> Iterator[tuple[str, bytes, str]]:
    """About ``count`` events: one unit per 100, then issues reported and (90%) rectified."""
    rng = random.Random(seed)
    units = unit_ids(max(1, count // 100), prefix)
    for i, unit_id in enumerate(units):
        u = UnitRegistered(
            event_id=uuid.uuid4(),
            occurred_at=START - timedelta(days=1),
            producer="bench",
            aggregate_id=unit_id,
            aggregate_version=1,
            unit_id=unit_id,
            name=f"单位{i}",
            category=("department", "district", "town")[i % 3],
        )
        yield u.SUBJECT, to_wire(u), str(u.event_id)
    produced, n = len(units), 0
    while produced < count:
        issue_id = uuid.uuid4()
        when = START + timedelta(minutes=rng.randrange(0, 500_000))
        unit_id = units[n % len(units)]
        r = iw.IssueReported(
            event_id=uuid.uuid4(),
            occurred_at=when,
            producer="bench",
            aggregate_id=str(issue_id),
            aggregate_version=1,
            issue_id=issue_id,
            number=f"JM-2018-{n:07d}",
            unit_id=unit_id,
            category="暴露垃圾",
            point_type="community",
            description="小区门口垃圾未清理",
            location=iw.Location(address="江门市"),
            found_at=when,
            reported_at=when,
            deadline=when + timedelta(days=3),
            inspector="张三",
            team="第一督查组",
        )
        yield r.SUBJECT, to_wire(r), str(r.event_id)
        produced, n = produced + 1, n + 1
        if produced < count and rng.random() < 0.9:
            done = iw.IssueRectified(
                event_id=uuid.uuid4(),
                occurred_at=when + timedelta(hours=rng.randrange(1, 96)),
                producer="bench",
                aggregate_id=str(issue_id),
                aggregate_version=2,
                issue_id=issue_id,
                unit_id=unit_id,
                evidence=["https://p.example/1.jpg"],
            )
            yield done.SUBJECT, to_wire(done), str(done.event_id)
            produced += 1
