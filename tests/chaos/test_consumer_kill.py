"""Issue 7.1: the ranking process is killed (kill -9) five times while issue events flow; the
final rates and edition equal the pure domain folded over the events sent, and every event was
applied exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import Servers

from .checks import assert_ranking_matches, ranking_env, ranking_reaches, watermark
from .harness import OwnNats, ServiceProcess, connect, eventually, fresh_database, publish_events
from .world import build_world

pytestmark = pytest.mark.chaos

KILLS = 5


async def test_killing_ranking_five_times_loses_and_doubles_nothing(
    own_nats: OwnNats,
    servers: Servers,
    fleet: list[ServiceProcess],
    tmp_path: Path,
    scale: int,
) -> None:
    world = build_world("ck", 5000 * scale)
    total = len(world.events)
    database = fresh_database(servers, "chaos_kill")
    ranking = ServiceProcess("ranking", ranking_env(own_nats.url, database), tmp_path / "logs")
    fleet.append(ranking)
    await asyncio.to_thread(ranking.start)  # it provisions the ISSUES stream
    nc = await connect(own_nats.url)
    try:
        publishing = asyncio.create_task(publish_events(nc.jetstream(), world.events))
        for kill in range(1, KILLS + 1):
            mark = kill * total // (KILLS + 1)

            async def passed(mark: int = mark) -> bool:
                return await watermark(database) >= mark

            await eventually(passed, 120, f"ranking applied {mark} events")
            ranking.kill()
            await asyncio.to_thread(ranking.start)
        await publishing
    finally:
        await nc.drain()

    await ranking_reaches(database, total, 120, "ranking applied every event")
    assert ranking.exits == [-9] * KILLS
    await assert_ranking_matches(world, ranking.url, database)
