"""Issue 7.3: a duplicate storm. 10% of the events are republished 1-3 times inside JetStream's
duplicate window with the same Nats-Msg-Id (the broker drops them), 1% once more with a new
id, as a relay republishing after the window would (the broker stores them; ranking must
recognise the event id): the state equals the expected one."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path

import pytest

from services.contracts.base import to_wire
from tests.conftest import Servers

from .checks import assert_ranking_matches, ranking_env, ranking_reaches
from .harness import (
    OwnNats,
    ServiceProcess,
    connect,
    fresh_database,
    publish_acked,
    publish_events,
)
from .world import build_world

pytestmark = pytest.mark.chaos


async def test_a_duplicate_storm_changes_nothing(
    own_nats: OwnNats,
    servers: Servers,
    fleet: list[ServiceProcess],
    tmp_path: Path,
    scale: int,
) -> None:
    world = build_world("ds", 3000 * scale, seed=3)
    rng = random.Random(11)
    database = fresh_database(servers, "chaos_dupes")
    ranking = ServiceProcess("ranking", ranking_env(own_nats.url, database), tmp_path / "logs")
    fleet.append(ranking)
    await asyncio.to_thread(ranking.start)
    in_window = rng.sample(world.events, len(world.events) // 10)
    after_window = rng.sample(world.events, len(world.events) // 100)
    nc = await connect(own_nats.url)
    try:
        js = nc.jetstream()
        await publish_events(js, world.events)
        storm = [e for e in in_window for _ in range(rng.randint(1, 3))]
        rng.shuffle(storm)
        seqs = await asyncio.gather(
            *(publish_acked(js, e.SUBJECT, to_wire(e), str(e.event_id)) for e in storm)
        )
        info = await js.stream_info("ISSUES")
        assert info.state.messages == len(world.events), "JetStream stored an in-window duplicate"
        assert max(seqs) <= len(world.events)
        for event in after_window:  # past the window: a new message id, the same event
            await publish_acked(js, event.SUBJECT, to_wire(event), f"late-{uuid.uuid4()}")
        last_seq = (await js.stream_info("ISSUES")).state.last_seq
        assert last_seq == len(world.events) + len(after_window)
    finally:
        await nc.drain()

    await ranking_reaches(database, last_seq, 120, "ranking handled every stored message")
    await assert_ranking_matches(world, ranking.url, database, position=last_seq)
