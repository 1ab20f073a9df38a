"""Ranking's input positions (R7) account for every message of its streams."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.contracts.base import to_wire
from services.contracts.units import UnitRegistered
from services.ranking.app import build
from tests.conftest import Servers

pytestmark = pytest.mark.integration


@pytest.fixture
async def ranking(server_env: Servers) -> AsyncIterator[httpx.AsyncClient]:
    app, runtime = build()
    await runtime.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ranking") as client:
            yield client
    finally:
        await runtime.stop()


async def test_invalid_and_unknown_messages_do_not_hold_the_input_position_back(
    ranking: httpx.AsyncClient, js: Any
) -> None:
    unit = f"pos-{uuid.uuid4().hex[:8]}"
    registered = UnitRegistered(
        event_id=uuid.uuid4(),
        occurred_at=datetime(2018, 5, 1, tzinfo=UTC),
        producer="issues",
        aggregate_id=unit,
        aggregate_version=1,
        unit_id=unit,
        name="测试局",
        category="department",
    )
    await js.publish(registered.SUBJECT, to_wire(registered))
    await js.publish("issues.v1.bogus", json.dumps({"type": "issues.v1.bogus"}).encode())
    await js.publish("units.v1.registered", b"not json at all")
    last = (await js.publish(registered.SUBJECT, to_wire(registered))).seq  # a duplicate

    positions: dict[str, int] = {}
    for _ in range(200):
        preview = await ranking.post(
            "/v1/editions/preview",
            json={"cutoff": "2018-05-07T00:00:00+08:00"},
            headers={"Authorization": "Bearer dev-office"},
        )
        positions = preview.json()["input_positions"]
        if positions.get("ISSUES", 0) >= last:
            break
        await asyncio.sleep(0.1)
    assert positions["ISSUES"] >= last
    rows = preview.json()["categories"]["department"]["rows"]
    assert unit not in {r["unit_id"] for r in rows}  # no issues and no score: not ranked
    sub = await js.pull_subscribe("dlq.ranking", stream="DLQ")
    letters = [json.loads(m.data) for m in await sub.fetch(50, timeout=2)]
    subjects = {(d["original_subject"], d["reason"].split(":")[0]) for d in letters}
    assert ("issues.v1.bogus", "invalid payload") in subjects
    assert ("units.v1.registered", "invalid payload") in subjects
