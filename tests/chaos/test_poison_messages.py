"""Issue 7.5: malformed JSON, a schema violation and a message whose handler always raises each
land in the dead-letter subject with their reason (the raising one after max_deliver), and the
messages behind them flow: every valid one applied exactly once."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from services.contracts.dead_letter import DeadLetter
from services.contracts.streams import DLQ
from tests.conftest import Servers
from tests.integration.runtime_probe.probe import Probe, running, scored, wire

from .harness import (
    OwnNats,
    connect,
    eventually,
    fresh_database,
    publish_acked,
    query,
    stream_messages,
)

pytestmark = pytest.mark.chaos


@pytest.fixture
async def probe(
    own_nats: OwnNats, servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Probe]:
    """The runtime's test-only probe service (max_deliver 3, 0.2 s backoff) on a NATS server
    and a database of the test's own."""
    monkeypatch.setenv("NATS_URL", own_nats.url)
    monkeypatch.setenv("DATABASE_URL", fresh_database(servers, "chaos_poison"))
    monkeypatch.setenv("AUTH_MODE", "dev")
    for key in [k for k in os.environ if k.endswith(("_NATS_URL", "_DATABASE_URL"))]:
        monkeypatch.delenv(key)
    async with running() as probe:
        yield probe


async def test_poison_messages_are_dead_lettered_with_their_reason_and_the_rest_flows(
    probe: Probe, own_nats: OwnNats, scale: int
) -> None:
    valid = [scored(f"ok-{i:05d}", score=f"{60 + i % 40}.5") for i in range(1000 * scale)]
    schema_violation = json.loads(wire(scored("bad-schema")))
    schema_violation["score"] = "lots"
    probe.always_fail.add("always-raises")
    raising = scored("always-raises")
    poison = {
        "malformed": b'{"event_id": "not even JSON',
        "schema": json.dumps(schema_violation).encode(),
        "raising": wire(raising),
    }
    subject = raising.SUBJECT
    nc = await connect(own_nats.url)
    js = nc.jetstream()
    try:
        seqs = {}
        half = len(valid) // 2
        # Poison first, so that everything valid queues behind it, and once more mid-stream.
        seqs["malformed"] = await publish_acked(js, subject, poison["malformed"], "p-malformed")
        seqs["schema"] = await publish_acked(js, subject, poison["schema"], "p-schema")
        for event in valid[:half]:
            await publish_acked(js, subject, wire(event), str(event.event_id))
        seqs["raising"] = await publish_acked(js, subject, poison["raising"], "p-raising")
        for event in valid[half:]:
            await publish_acked(js, subject, wire(event), str(event.event_id))

        schema = probe.name

        async def all_applied() -> bool:
            rows = await query(
                probe.runtime.settings.database, f"SELECT count(*) AS n FROM {schema}.applied"
            )
            return bool(rows[0]["n"] >= len(valid))

        await eventually(all_applied, 120, "every valid message was applied")

        async def letters() -> list[DeadLetter]:
            msgs = await stream_messages(js, DLQ.name, [f"dlq.{probe.name}"])
            return [DeadLetter.model_validate_json(data) for _, _, data, _ in msgs]

        async def three_letters() -> bool:
            return len(await letters()) >= 3

        await eventually(three_letters, 30, "three dead letters")
        by_seq = {letter.stream_sequence: letter for letter in await letters()}
    finally:
        await nc.drain()

    assert set(by_seq) == set(seqs.values()), "exactly the three poison messages are dead letters"
    malformed, violation, raised = (by_seq[seqs[k]] for k in ("malformed", "schema", "raising"))
    assert malformed.reason.startswith("invalid payload") and malformed.delivery_count == 1
    assert malformed.payload.encode() == poison["malformed"]
    assert violation.reason.startswith("invalid payload") and "score" in violation.reason
    assert violation.delivery_count == 1
    max_deliver = probe.runtime.settings.max_deliver
    assert raised.reason.startswith(f"handler failed {max_deliver} times")
    assert "always fails" in raised.reason and raised.delivery_count == max_deliver
    assert probe.deliveries["always-raises"] == max_deliver
    for letter in (malformed, violation, raised):
        assert letter.stream == "ASSESSMENTS" and letter.original_subject == subject

    rows = await query(
        probe.runtime.settings.database, f"SELECT event_id, unit_id FROM {schema}.applied"
    )
    applied = Counter(row["event_id"] for row in rows)
    assert set(applied) == {e.event_id for e in valid}, "a valid message was lost"
    assert max(applied.values()) == 1, "a message was applied twice"
