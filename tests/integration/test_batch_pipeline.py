"""Batch consumers hand each decoded batch to an applying task (runtime/batches.py), on real
NATS + PostgreSQL: batches are applied in the order they were fetched, those waiting while one
is applied go into one transaction, and stopping applies and acks every batch handed over, so
nothing committed comes back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from nats.aio.msg import Msg

from services.contracts.assessments import AssessmentScored
from services.contracts.streams import ASSESSMENTS
from services.runtime.batches import WAITING, BatchApplier, Policy, raw_messages
from services.runtime.broker import JsMessage
from services.runtime.db import Conn
from services.runtime.service import ServiceRuntime
from tests.conftest import Servers

from .runtime_probe.probe import ProbeSettings, scored, wire

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parent / "runtime_probe" / "migrations"
Item = tuple[AssessmentScored, int]


class BatchProbe:
    """A service whose one batch consumer records every score it applies (not idempotent on
    purpose: a committed message delivered again would be recorded twice)."""

    def __init__(self, name: str, apply_seconds: float, ack_wait: float = 3.0) -> None:
        self.name = name
        self.apply_seconds = apply_seconds
        self.applied_batches: list[list[int]] = []  # stream sequences, in the order applied
        self.poison: set[str] = set()  # units whose scores always fail to apply
        # ack_wait 3 s: a fetch FastStream holds when it stops comes back that soon (below).
        settings = ProbeSettings(batch_size=20, batch_wait_seconds=0.05, ack_wait_seconds=ack_wait)
        self.runtime = ServiceRuntime(name, settings, MIGRATIONS, (ASSESSMENTS,))
        applier = BatchApplier[Item](
            name,
            self.runtime.transaction,
            _decode,
            self._apply,
            self.runtime.bus.dead_letters,
            Policy(max_deliver=3, nak_delays=(0.2,)),
        )
        self.runtime.before_stopping.append(applier.drain)

        @self.runtime.bus.stream_subscriber(ASSESSMENTS, "Scores, in batches.", batch=True)
        async def on_scores(events: list[AssessmentScored], msg: JsMessage) -> None:
            await applier(raw_messages(msg))

    async def _apply(self, conn: Conn, items: Sequence[Item]) -> None:
        await asyncio.sleep(self.apply_seconds)  # a slow database: fetched batches queue up
        if any(event.unit_id in self.poison for event, _ in items):
            raise RuntimeError("this score can never be applied")
        for event, _ in items:
            await conn.execute(
                "INSERT INTO applied (event_id, unit_id, score) VALUES (%s, %s, %s)",
                (event.event_id, event.unit_id, event.score),
            )
        self.applied_batches.append([seq for _, seq in items])

    async def recorded(self, prefix: str) -> list[dict[str, Any]]:
        async with self.runtime.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT event_id FROM applied WHERE unit_id LIKE %s", (f"{prefix}%",)
            )
            return list(await cur.fetchall())


def _decode(msg: Msg) -> Item:
    return AssessmentScored.model_validate_json(msg.data), msg.metadata.sequence.stream


async def _publish(js: Any, prefix: str, count: int) -> list[int]:
    seqs = []
    for n in range(count):
        event = scored(f"{prefix}-{n}")
        ack = await js.publish(event.SUBJECT, wire(event), headers={"Nats-Msg-Id": str(n) + prefix})
        seqs.append(ack.seq)
    return seqs


async def _until(check: Any, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_batches_are_applied_in_the_order_they_were_fetched(
    server_env: Servers, js: Any
) -> None:
    prefix = f"order-{uuid.uuid4().hex[:6]}"
    probe = BatchProbe(f"probe_{uuid.uuid4().hex[:8]}", apply_seconds=0.03)
    await probe.runtime.start()  # provisions the stream
    try:
        ours = set(await _publish(js, prefix, 200))

        async def all_applied() -> bool:
            return len(await probe.recorded(prefix)) == len(ours)

        await _until(all_applied)
    finally:
        await probe.runtime.stop()
    applied = [seq for batch in probe.applied_batches for seq in batch if seq in ours]
    assert applied == sorted(ours)
    assert len(probe.applied_batches) > 2  # several batches were in hand at once


async def test_batches_waiting_while_one_is_applied_are_applied_together(
    server_env: Servers, js: Any
) -> None:
    prefix = f"merge-{uuid.uuid4().hex[:6]}"
    probe = BatchProbe(f"probe_{uuid.uuid4().hex[:8]}", apply_seconds=0.3)  # fetches of 20
    await probe.runtime.start()
    try:
        ours = await _publish(js, prefix, 300)

        async def all_applied() -> bool:
            return len(await probe.recorded(prefix)) == len(ours)

        await _until(all_applied)
    finally:
        await probe.runtime.stop()
    sizes = [len(batch) for batch in probe.applied_batches]
    # A slow transaction lets fetches queue up; the next one takes every fetch waiting (more
    # than one fetch of 20), never more than WAITING of them, and keeps their order.
    assert max(sizes) > 20
    assert max(sizes) <= 20 * WAITING
    assert len(sizes) < len(ours) / 20
    mine = set(ours)  # the stream holds other tests' scores too
    assert [seq for batch in probe.applied_batches for seq in batch if seq in mine] == ours


async def test_a_failing_message_takes_only_its_own_fetch_into_one_message_transactions(
    server_env: Servers, js: Any
) -> None:
    prefix = f"poison-{uuid.uuid4().hex[:6]}"
    # A transaction takes 0.3 s, so a fetch applied message by message takes 6 s: the ack
    # wait must outlast it, or the server delivers the messages still waiting their turn again.
    probe = BatchProbe(f"probe_{uuid.uuid4().hex[:8]}", apply_seconds=0.3, ack_wait=30.0)
    probe.poison.add(f"{prefix}-119")  # the last one: its redeliveries come alone
    await probe.runtime.start()
    try:
        ours = await _publish(js, prefix, 120)

        async def the_others_applied() -> bool:
            return len(await probe.recorded(prefix)) == 119

        await _until(the_others_applied)
        await asyncio.sleep(1.0)  # its redeliveries (nak'ed after 0.2 s) fail too
        rows = await probe.recorded(prefix)
    finally:
        await probe.runtime.stop()
    assert len(rows) == len({row["event_id"] for row in rows}) == 119
    mine = set(ours)
    batches = [[seq for seq in batch if seq in mine] for batch in probe.applied_batches]
    # The transaction holding the failing message is tried again fetch by fetch; only the
    # fetch that holds it (at most 20) goes message by message.
    assert max(len(batch) for batch in batches) > 20  # fetches were taken together
    assert sum(1 for batch in batches if len(batch) == 1) < 20


async def test_stopping_applies_and_acks_every_batch_handed_over(
    server_env: Servers, js: Any
) -> None:
    prefix = f"drain-{uuid.uuid4().hex[:6]}"
    name = f"probe_{uuid.uuid4().hex[:8]}"
    first = BatchProbe(name, apply_seconds=0.2)
    await first.runtime.start()
    await _publish(js, prefix, 300)

    async def started_applying() -> bool:
        return bool(first.applied_batches)

    await _until(started_applying)
    await first.runtime.stop()  # with batches fetched and handed over, not yet applied
    info = await js.consumer_info(ASSESSMENTS.name, f"{name}-{ASSESSMENTS.name.lower()}")
    # Every batch handed over was applied and acked (or nak'ed). FastStream's fetch loop drops,
    # unacked, a fetch that completes after the subscriber began stopping: at most one fetch
    # stays pending, for redelivery after ack_wait, and the restart below applies it once.
    assert info.num_ack_pending <= 20

    second = BatchProbe(name, apply_seconds=0.0)  # the same durable consumer, restarted
    await second.runtime.start()
    try:

        async def all_applied() -> bool:
            return len(await second.recorded(prefix)) >= 300

        await _until(all_applied)
        await asyncio.sleep(0.5)  # anything delivered twice would be recorded by now
        rows = await second.recorded(prefix)
    finally:
        await second.runtime.stop()
    assert len(rows) == len({row["event_id"] for row in rows}) == 300
