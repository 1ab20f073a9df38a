"""Issue 7.4: nats-server is killed (kill -9) while events are being published and consumed,
then restarted on the same store: every acknowledged event is there exactly once, and ranking
drains the backlog by itself (no manual step): its state equals the expected one."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path

import pytest

from services.contracts.base import to_wire
from services.contracts.streams import ISSUES
from tests.conftest import Servers

from .checks import assert_ranking_matches, ranking_env, watermark
from .harness import (
    OwnNats,
    ServiceProcess,
    connect,
    eventually,
    fresh_database,
    publish_acked,
    stream_messages,
)
from .world import build_world

pytestmark = pytest.mark.chaos


async def test_killing_the_broker_during_publishes_loses_no_acknowledged_event(
    own_nats: OwnNats,
    servers: Servers,
    fleet: list[ServiceProcess],
    tmp_path: Path,
    scale: int,
) -> None:
    world = build_world("bk", 2000 * scale, seed=5)
    database = fresh_database(servers, "chaos_broker")
    ranking = ServiceProcess("ranking", ranking_env(own_nats.url, database), tmp_path / "logs")
    fleet.append(ranking)
    await asyncio.to_thread(ranking.start)
    acked: set[uuid.UUID] = set()
    nc = await connect(own_nats.url)
    try:
        js = nc.jetstream()
        a_third = asyncio.Event()

        async def publish_all() -> None:
            # As a relay does: each event retried with its own id until acknowledged.
            for start in range(0, len(world.events), 32):
                chunk = world.events[start : start + 32]
                await asyncio.gather(
                    *(publish_acked(js, e.SUBJECT, to_wire(e), str(e.event_id)) for e in chunk)
                )
                acked.update(e.event_id for e in chunk)
                if len(acked) >= len(world.events) // 3:
                    a_third.set()

        publishing = asyncio.create_task(publish_all())
        await a_third.wait()
        own_nats.kill()
        killed_at = len(acked)
        await asyncio.sleep(1)
        await asyncio.to_thread(own_nats.start)
        await publishing
        assert killed_at < len(world.events), "the broker died after the last publish"
        stored = await stream_messages(js, ISSUES.name, ISSUES.subjects)
    finally:
        await nc.drain()

    ids = Counter(uuid.UUID(json.loads(data)["event_id"]) for _, _, data, _ in stored)
    assert set(ids) == acked == {e.event_id for e in world.events}, "an acknowledged event is lost"
    assert max(ids.values()) == 1, "an event is stored twice"

    async def drained() -> bool:
        try:
            return await watermark(database) == len(world.events)
        except Exception:
            return False

    await eventually(drained, 120, "ranking drained the backlog after the broker came back")
    assert ranking.alive() and ranking.exits == []
    await assert_ranking_matches(world, ranking.url, database)
