"""The outbox relay on real PostgreSQL: order kept, failures retried, hopeless rows parked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.runtime.outbox import OutboxRelay, stage
from tests.conftest import Servers

from .runtime_probe.probe import Probe, scored

pytestmark = pytest.mark.integration


@pytest.fixture
async def probe(server_env: Servers) -> AsyncIterator[Probe]:
    probe = Probe()
    await probe.runtime.start()
    await probe.runtime._relay.stop()  # type: ignore[union-attr]  # the test drives its own
    try:
        yield probe
    finally:
        await probe.runtime.stop()


class FlakyBroker:
    """Records what is published; fails for the event ids in ``failing``."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.failing: set[str] = set()

    async def publish(self, subject: str, payload: bytes, msg_id: str) -> int:
        if msg_id in self.failing:
            raise ConnectionError("nats: no servers available")
        self.published.append(msg_id)
        return len(self.published)


async def test_a_failed_row_is_retried_and_later_rows_never_overtake_it(probe: Probe) -> None:
    events = [scored(f"dept-order-{i}") for i in range(3)]
    async with probe.runtime.transaction() as conn:
        await stage(conn, events)
    broker = FlakyBroker()
    broker.failing.add(str(events[1].event_id))
    relay = OutboxRelay(probe.runtime.pool, broker.publish, 0.05, probe.name, max_attempts=5)

    assert await relay.flush() == 1
    assert broker.published == [str(events[0].event_id)]
    async with probe.runtime.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT attempts, last_error, next_attempt_at > now() AS later FROM outbox"
            " WHERE event_id = %s",
            (events[1].event_id,),
        )
        row = await cur.fetchone()
    assert row is not None
    assert row["attempts"] == 1
    assert "no servers available" in row["last_error"]
    assert row["later"]
    assert await relay.flush() == 0  # not due yet, and event 2 waits behind it

    broker.failing.clear()
    async with probe.runtime.transaction() as conn:
        await conn.execute("UPDATE outbox SET next_attempt_at = now()")
    assert await relay.flush() == 2
    assert broker.published == [str(e.event_id) for e in events]


async def test_a_row_that_never_publishes_is_parked_and_blocks_nothing(probe: Probe) -> None:
    hopeless, after = scored("dept-hopeless"), scored("dept-after-hopeless")
    async with probe.runtime.transaction() as conn:
        await stage(conn, [hopeless, after])
    broker = FlakyBroker()
    broker.failing.add(str(hopeless.event_id))
    relay = OutboxRelay(probe.runtime.pool, broker.publish, 0.05, probe.name, max_attempts=2)
    for _ in range(2):
        await relay.flush()
        async with probe.runtime.transaction() as conn:
            await conn.execute("UPDATE outbox SET next_attempt_at = now()")
    assert await relay.flush() == 1
    assert broker.published == [str(after.event_id)]
    async with probe.runtime.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT parked_at IS NOT NULL AS parked FROM outbox WHERE event_id = %s",
            (hopeless.event_id,),
        )
        row = await cur.fetchone()
    assert row is not None
    assert row["parked"]


async def test_only_one_relay_of_a_service_publishes_at_a_time(probe: Probe) -> None:
    async with probe.runtime.transaction() as conn:
        await stage(conn, [scored("dept-single-relay")])
    broker = FlakyBroker()
    relay = OutboxRelay(probe.runtime.pool, broker.publish, 0.05, probe.name)
    async with probe.runtime.pool.connection() as other, other.transaction():
        await other.execute("SELECT pg_advisory_xact_lock(%s)", (relay._key,))
        assert await relay.flush() == 0  # another replica's relay holds the turn
    assert await relay.flush() == 1
