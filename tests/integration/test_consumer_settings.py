"""A durable consumer made by an earlier release takes the settings of the code that runs it
(runtime/consumer_settings.py), on a real nats-server: nats-py binds to an existing durable as
it is, so without this a changed ``max_ack_pending`` or ``ack_wait`` never reaches the server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from services.contracts.assessments import AssessmentScored
from tests.conftest import Servers

from .runtime_probe.probe import Probe, scored, wire

pytestmark = pytest.mark.integration


async def test_an_existing_durable_takes_the_settings_the_service_runs_with(
    server_env: Servers, js: Any
) -> None:
    provisioning = Probe()  # the stream, as any service of the stack makes it at start
    await provisioning.runtime.start()
    await provisioning.runtime.stop()
    probe = Probe()
    ((stream, durable), wanted), *_ = probe.runtime.bus.consumer_configs.items()
    # As an earlier release left it: fewer messages in hand and a longer ack wait.
    await js.add_consumer(
        stream,
        ConsumerConfig(
            durable_name=durable,
            filter_subject=AssessmentScored.SUBJECT,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            max_ack_pending=7,
            ack_wait=90.0,
            max_deliver=-1,
        ),
    )
    assert (wanted.max_ack_pending, wanted.ack_wait) != (7, 90.0)

    await probe.runtime.start()
    try:
        config = (await js.consumer_info(stream, durable)).config
        assert config.max_ack_pending == wanted.max_ack_pending
        assert config.ack_wait == wanted.ack_wait
        assert config.filter_subject == AssessmentScored.SUBJECT  # what it reads is kept
        event = scored("dept-updated-durable")
        await js.publish(event.SUBJECT, wire(event), headers={"Nats-Msg-Id": str(event.event_id)})
        for _ in range(200):
            if await probe.applied("dept-updated-durable"):
                break
            await asyncio.sleep(0.1)
        assert [row["event_id"] for row in await probe.applied("dept-updated-durable")] == [
            event.event_id
        ]
    finally:
        await probe.runtime.stop()
