"""At-least-once transport, exactly-once effects, and dead letters, on real NATS + PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import pytest

from services.contracts.dead_letter import DeadLetter
from services.runtime.inbox import prune_processed
from tests.conftest import Servers

from .runtime_probe.probe import Probe, running, scored, wire

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


@pytest.fixture
async def probe(server_env: Servers) -> AsyncIterator[Probe]:
    async with running() as probe:
        yield probe


async def test_an_event_delivered_twice_is_applied_once(probe: Probe, js: Any) -> None:
    event = scored("dept-twice")
    # Two different message ids get past JetStream's duplicate window: the consumer must
    # recognise the event id itself.
    await js.publish(
        event.SUBJECT, wire(event), headers={"Nats-Msg-Id": "a-" + str(event.event_id)}
    )
    await js.publish(
        event.SUBJECT, wire(event), headers={"Nats-Msg-Id": "b-" + str(event.event_id)}
    )

    async def both_seen() -> bool:
        return probe.deliveries["dept-twice"] == 2

    await eventually(both_seen)
    await asyncio.sleep(0.3)
    rows = await probe.applied("dept-twice")
    assert [row["event_id"] for row in rows] == [event.event_id]


async def test_a_handler_failure_leads_to_redelivery_not_loss(probe: Probe, js: Any) -> None:
    probe.fail_times["dept-flaky"] = 2
    event = scored("dept-flaky")
    await js.publish(event.SUBJECT, wire(event), headers={"Nats-Msg-Id": str(event.event_id)})

    async def applied() -> bool:
        return len(await probe.applied("dept-flaky")) == 1

    await eventually(applied)
    assert probe.deliveries["dept-flaky"] == 3


async def dead_letters(js: Any, service: str) -> list[DeadLetter]:
    sub = await js.pull_subscribe(f"dlq.{service}", stream="DLQ")
    try:
        msgs = await sub.fetch(10, timeout=1)
    except nats.errors.TimeoutError:
        return []
    finally:
        await sub.unsubscribe()
    return [DeadLetter.model_validate_json(m.data) for m in msgs]


async def test_an_invalid_payload_is_dead_lettered_at_once_with_field_paths(
    probe: Probe, js: Any
) -> None:
    body = json.loads(wire(scored("dept-bad")))
    body["score"] = "lots"
    await js.publish("assessments.v1.scored", json.dumps(body).encode())

    async def parked() -> bool:
        return bool(await dead_letters(js, probe.name))

    await eventually(parked)
    (letter,) = await dead_letters(js, probe.name)
    assert letter.original_subject == "assessments.v1.scored"
    assert "score" in letter.reason and letter.reason.startswith("invalid payload")
    assert letter.delivery_count == 1 and letter.stream == "ASSESSMENTS"
    assert json.loads(letter.payload)["score"] == "lots"
    assert await probe.applied("dept-bad") == []


async def test_a_handler_that_always_fails_is_dead_lettered_at_max_deliver(
    probe: Probe, js: Any
) -> None:
    probe.always_fail.add("dept-poison")
    await js.publish("assessments.v1.scored", wire(scored("dept-poison")))

    async def parked() -> bool:
        return any(
            json.loads(d.payload)["unit_id"] == "dept-poison"
            for d in await dead_letters(js, probe.name)
        )

    await eventually(parked)
    letter = next(
        d
        for d in await dead_letters(js, probe.name)
        if json.loads(d.payload)["unit_id"] == "dept-poison"
    )
    assert letter.delivery_count == 3
    assert "always fails" in letter.reason
    assert probe.deliveries["dept-poison"] == 3
    # The next message still flows.
    after = scored("dept-after-poison")
    await js.publish(after.SUBJECT, wire(after))

    async def flowed() -> bool:
        return len(await probe.applied("dept-after-poison")) == 1

    await eventually(flowed)


async def test_applied_ids_are_pruned_only_past_the_retention(probe: Probe) -> None:
    old, recent = uuid.uuid4(), uuid.uuid4()
    async with probe.runtime.transaction() as conn:
        for event_id, age in ((old, "31 days"), (recent, "1 day")):
            await conn.execute(
                "INSERT INTO processed_events (consumer, event_id, subject, processed_at)"
                " VALUES ('c', %s, 's', now() - %s::interval)",
                (event_id, age),
            )
        assert await prune_processed(conn, older_than_days=30) == 1
        cur = await conn.execute("SELECT event_id FROM processed_events WHERE consumer = 'c'")
        assert [row["event_id"] for row in await cur.fetchall()] == [recent]


async def test_an_unavailable_database_is_retried_past_max_deliver_not_dead_lettered(
    probe: Probe, js: Any
) -> None:
    # max_deliver is 3 for the probe: an outage longer than that must not lose the event.
    probe.database_down_times["dept-outage"] = 5
    event = scored("dept-outage")
    await js.publish(event.SUBJECT, wire(event), headers={"Nats-Msg-Id": str(event.event_id)})

    async def applied() -> bool:
        return len(await probe.applied("dept-outage")) == 1

    await eventually(applied, within=60)
    assert probe.deliveries["dept-outage"] == 6
    letters = await dead_letters(js, probe.name)
    assert not any(json.loads(d.payload)["unit_id"] == "dept-outage" for d in letters)


async def test_a_validation_error_of_our_own_is_retried_not_taken_for_bad_input(
    probe: Probe, js: Any
) -> None:
    probe.broken_invariant.add("dept-bug")
    await js.publish("assessments.v1.scored", wire(scored("dept-bug")))

    async def parked() -> bool:
        return any(
            json.loads(d.payload)["unit_id"] == "dept-bug"
            for d in await dead_letters(js, probe.name)
        )

    await eventually(parked)
    letter = next(
        d
        for d in await dead_letters(js, probe.name)
        if json.loads(d.payload)["unit_id"] == "dept-bug"
    )
    assert letter.delivery_count == 3
    assert letter.reason.startswith("handler failed 3 times")
