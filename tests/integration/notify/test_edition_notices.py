"""R5.2/R5.3 on real NATS + PostgreSQL: an edition's notices reach a real webhook receiver."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.notify.app import build
from services.notify.domain.webhook_signature import verify
from services.notify.settings import NotifySettings
from tests.conftest import Servers

from .conftest import (
    OFFICE,
    SECRET,
    Notify,
    dead_letters,
    edition,
    eventually,
    publish,
    start_notify,
    unit_ids,
)
from .receiver import Receiver

pytestmark = pytest.mark.integration


async def test_an_edition_commends_red_criticises_black_and_orders_talks(
    notify: Notify, js: Any
) -> None:
    units = unit_ids("dept", 4)
    red, black = [units[0]], units[2:]
    await publish(js, edition(units, red=red, black=black))

    async def all_sent() -> bool:  # 4 rate reports + 1 commendation + 2 criticisms + 2 talks
        return len(notify.receiver.for_units(set(units))) == 9

    await eventually(all_sent)
    sent = notify.receiver.for_units(set(units))
    kinds = Counter((r.json["notice_type"], r.json["unit_id"]) for r in sent)
    assert kinds == Counter(
        [("rate_report", u) for u in units]
        + [("commendation", units[0])]
        + [(kind, u) for u in black for kind in ("criticism", "talk")]
    )
    for request in sent:
        verify(SECRET, request.headers, request.body, now=int(time.time()))
    criticism = next(r.json for r in sent if r.json["notice_type"] == "criticism")
    assert "通报批评" in criticism["title"]
    assert criticism["key_numbers"]["consecutive_black"] == "1"
    assert {"rank", "rate", "rate_display"} <= set(criticism["key_numbers"])

    talks = (await notify.http.get("/v1/talks", params={"unit_id": black[0]})).json()
    assert [(t["level"], t["k"], t["status"]) for t in talks] == [("city_leader", 1, "ordered")]

    async def all_delivered() -> bool:
        got = await notify.http.get("/v1/notifications", params={"unit_id": black[1]})
        return {n["status"] for n in got.json()} == {"delivered"}

    await eventually(all_delivered)
    events = await notify.rows("SELECT payload FROM outbox WHERE subject = 'notify.v1.delivered'")
    delivered = [json.loads(bytes(e["payload"])) for e in events]
    assert sum(e["recipient"] == f"unit:{black[1]}" for e in delivered) == 3


async def test_the_same_edition_delivered_twice_is_planned_and_sent_once(
    notify: Notify, js: Any
) -> None:
    units = unit_ids("dist", 2)
    event = edition(units, red=[], black=[units[1]])
    # Different message ids get past JetStream's duplicate window.
    await publish(js, event, "a-" + str(event.event_id))
    await publish(js, event, "b-" + str(event.event_id))

    async def sent() -> bool:
        return len(notify.receiver.for_units(set(units))) >= 4

    await eventually(sent)
    await asyncio.sleep(1.0)
    assert len(notify.receiver.for_units(set(units))) == 4
    rows = await notify.rows("SELECT count(*) AS n FROM deliveries WHERE unit_id = ANY(%s)", units)
    assert rows[0]["n"] == 4


@pytest.fixture
async def flaky_notify(server_env: Servers) -> AsyncIterator[Notify]:
    receiver = Receiver(failures_per_message=1)
    await receiver.start()
    try:
        async for running in start_notify(receiver):
            yield running
    finally:
        await receiver.stop()


async def test_a_receiver_answering_500_then_200_gets_a_retry_and_ends_delivered(
    flaky_notify: Notify, js: Any
) -> None:
    (unit,) = unit_ids("town", 1)
    await publish(js, edition([unit], red=[], black=[]))

    async def delivered() -> bool:
        got = await flaky_notify.http.get("/v1/notifications", params={"unit_id": unit})
        return [(n["status"], n["attempts"]) for n in got.json()] == [("delivered", 2)]

    await eventually(delivered)
    tries = [r for r in flaky_notify.receiver.requests if r.json.get("unit_id") == unit]
    assert [r.status for r in tries] == [500, 200]
    # The same webhook-id on the retry, so the receiver can deduplicate.
    assert tries[0].headers["webhook-id"] == tries[1].headers["webhook-id"]


async def test_without_a_receiver_notices_are_kept_and_marked_skipped(
    server_env: Servers, js: Any
) -> None:
    app, _ = build(NotifySettings(delivery_poll_seconds=0.1, webhook_url=None))
    (unit,) = unit_ids("dept", 1)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://notify", headers=OFFICE
        ) as http,
    ):
        await publish(js, edition([unit], red=[unit], black=[]))

        async def planned() -> bool:
            got = (await http.get("/v1/notifications", params={"unit_id": unit})).json()
            return len(got) == 2

        await eventually(planned)
        # Recorded skipped as they are planned (never pending), each with its message.
        got = (await http.get("/v1/notifications", params={"unit_id": unit})).json()
        assert {n["status"] for n in got} == {"skipped"}
        assert all("NOTIFY_WEBHOOK_URL" in n["last_error"] for n in got)
        assert all(n["attempts"] == 0 and n["title"] for n in got)


async def test_planned_notices_are_sent_at_once_not_at_the_next_poll(
    unpolled_notify: Notify, js: Any
) -> None:
    """The commit that plans notices wakes the delivery worker, which otherwise looks only
    every ``delivery_poll_seconds`` (an hour here)."""
    (unit,) = unit_ids("dept-woken", 1)
    await publish(js, edition([unit], red=[unit], black=[]))

    async def sent() -> bool:  # the rate report and the commendation
        return len(unpolled_notify.receiver.for_units({unit})) == 2

    await eventually(sent)


async def test_a_notice_refused_for_good_is_failed_and_dead_lettered_on_the_bus(
    server_env: Servers, js: Any
) -> None:
    """R5 / ARCHITECTURE.md "Failures": a receiver that refuses (4xx) gets no retries;
    notify.v1.failed is published and the dead letter lands on dlq.notify with its reason."""
    receiver = Receiver(respond=lambda _target, _headers: (410, b"gone", ""))
    await receiver.start()
    try:
        async for notify in start_notify(receiver):
            await _expect_failed_and_dead_lettered(notify, js)
    finally:
        await receiver.stop()


async def _expect_failed_and_dead_lettered(notify: Notify, js: Any) -> None:
    units = unit_ids("gone", 2)
    await publish(js, edition(units, red=[], black=[]))

    async def failed() -> bool:
        got = await notify.http.get("/v1/notifications", params={"unit_id": units[0]})
        return [n["status"] for n in got.json()] == ["failed"]

    await eventually(failed)
    # Every dead letter of the session's notify tests so far, not only the first few hundred.
    letters = await dead_letters(js)
    mine = [d for d in letters if units[0] in d["payload"]]
    assert mine, letters[-3:]
    assert mine[0]["reason"].startswith("delivery failed")
    events = await notify.rows("SELECT payload FROM outbox WHERE subject = 'notify.v1.failed'")
    assert any(units[0] in bytes(e["payload"]).decode() for e in events)
