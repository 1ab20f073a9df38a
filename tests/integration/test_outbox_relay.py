"""The outbox relay on real PostgreSQL: order kept, failures retried, hopeless rows parked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence

import nats.errors
import pytest

from services.contracts.assessments import AssessmentScored
from services.contracts.base import to_wire
from services.runtime.broker import PUBLISH_IN_FLIGHT_MAX
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
    """Records what is published, and how many at once; fails for the ids in ``failing``."""

    def __init__(self, *failing: str) -> None:
        self.published: list[str] = []
        self.failing: set[str] = set(failing)
        self.sends: list[int] = []  # messages per call

    async def publish(
        self, batch: Sequence[tuple[str, bytes, str]], before_send: Callable[[], None]
    ) -> list[int | Exception]:
        self.sends.append(len(batch))
        results: list[int | Exception] = []
        for _subject, _payload, msg_id in batch:
            before_send()
            if msg_id in self.failing:
                results.append(ConnectionError("nats: no servers available"))
            else:
                self.published.append(msg_id)
                results.append(len(self.published))
        return results


async def staged(probe: Probe, prefix: str, count: int) -> list[AssessmentScored]:
    """``count`` events committed to the probe's outbox, not yet published."""
    events = [scored(f"{prefix}-{i}") for i in range(count)]
    async with probe.runtime.transaction() as conn:
        await stage(conn, events)
    return events


async def test_a_failed_row_is_retried_and_later_rows_never_overtake_it(probe: Probe) -> None:
    events = await staged(probe, "dept-order", 3)
    broker = FlakyBroker(str(events[1].event_id))
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
    assert broker.sends == [1, 1, 1, 1]  # one row at a time: nothing was sent past the failure


async def test_a_pipelining_relay_sends_a_window_before_awaiting_any_ack(probe: Probe) -> None:
    events = await staged(probe, "dept-window", 5)
    broker = FlakyBroker()
    relay = OutboxRelay(probe.runtime.pool, broker.publish, 0.05, probe.name, in_flight=2)

    assert await relay.flush() == 5
    assert broker.sends == [2, 2, 1]
    assert broker.published == [str(e.event_id) for e in events]


async def test_rows_a_pipelining_relay_stored_past_a_failure_stay_marked(probe: Probe) -> None:
    events = await staged(probe, "dept-overtaken", 4)
    broker = FlakyBroker(str(events[1].event_id))
    relay = OutboxRelay(probe.runtime.pool, broker.publish, 0.05, probe.name, in_flight=3)

    # The window of three: 0 and 2 stored, 1 failed; 3 (the next window) is not sent.
    assert await relay.flush() == 2
    assert broker.sends == [3]
    broker.failing.clear()
    async with probe.runtime.transaction() as conn:
        await conn.execute("UPDATE outbox SET next_attempt_at = now()")
    assert await relay.flush() == 2
    ids = [str(e.event_id) for e in events]
    assert broker.published == [ids[0], ids[2], ids[1], ids[3]]  # 2 overtook 1, only it


async def test_a_row_that_never_publishes_is_parked_and_blocks_nothing(probe: Probe) -> None:
    hopeless, after = scored("dept-hopeless"), scored("dept-after-hopeless")
    async with probe.runtime.transaction() as conn:
        await stage(conn, [hopeless, after])
    broker = FlakyBroker(str(hopeless.event_id))
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


async def test_the_bus_publishes_a_batch_in_order_and_says_which_failed(
    server_env: Servers,
) -> None:
    probe = Probe()
    probe.runtime.bus.publisher(AssessmentScored)
    await probe.runtime.start()
    try:
        events = [scored(f"dept-bus-{i}") for i in range(3)]
        batch = [(e.SUBJECT, to_wire(e), str(e.event_id)) for e in events]
        first = await probe.runtime.bus.publish_events(batch)
        seqs = [seq for seq in first if isinstance(seq, int)]
        assert len(set(seqs)) == 3 and seqs == sorted(seqs)  # stored in the batch's order

        again = await probe.runtime.bus.publish_events(batch[:1])  # a republished row
        assert again == first[:1]  # JetStream's duplicate window: the stored message's sequence

        late = scored("dept-bus-late")
        undeclared = ("issues.v1.rectified", b"{}", "undeclared-subject")
        mixed = await probe.runtime.bus.publish_events(
            [undeclared, (late.SUBJECT, to_wire(late), str(late.event_id))]
        )
        assert all(isinstance(r, LookupError) for r in mixed)  # nothing sent past it
        assert "declares no publisher for issues.v1.rectified" in str(mixed[0])
    finally:
        await probe.runtime.stop()


async def test_a_send_that_raises_gives_its_in_flight_slot_back(server_env: Servers) -> None:
    """nats-py's publish_async holds a slot of its in-flight limit from before the send; a send
    that raises (the reconnect buffer full) must not keep it, or the relay would stall for good
    after PUBLISH_IN_FLIGHT_MAX such failures."""
    probe = Probe()
    bus = probe.runtime.bus
    bus.publisher(AssessmentScored)
    await probe.runtime.start()
    try:
        event = scored("dept-bus-buffer-full")
        batch = [(event.SUBJECT, to_wire(event), str(event.event_id))]
        connection = bus.broker.connection

        async def full(*args: object, **kwargs: object) -> None:
            raise nats.errors.OutboundBufferLimitError

        connection.publish = full  # type: ignore[method-assign]
        try:
            failed = await bus.publish_events(batch)
        finally:
            del connection.publish  # the class's method again
        assert isinstance(failed[0], nats.errors.OutboundBufferLimitError)
        await asyncio.sleep(0)  # the cancelled future's done-callbacks run on the next turn
        js = bus._async_jetstream()
        assert js._publish_async_futures == {}
        assert js._publish_async_pending_semaphore._value == PUBLISH_IN_FLIGHT_MAX
        stored = await bus.publish_events(batch)
        assert isinstance(stored[0], int)
    finally:
        await probe.runtime.stop()
