"""Issue 6: kill -9 the notify process in the middle of a delivery batch and restart it: every
notice owed is delivered at least once, and the receiver sees exactly as many distinct
``webhook-id``s as there are notices (a resent one keeps its id, so receivers deduplicate)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.runtime import embedded
from tests.conftest import Servers, _fresh_database

from .stack import Receiver, Stack

pytestmark = pytest.mark.e2e
OFFICE = {"Authorization": "Bearer dev-office"}
# 30 rate reports, 5 commendations, 3 criticisms, 3 talks (R5.2, R5.3) and 5 award notices
# once incentives has split the pool among the red departments (R5.4).
OWED = 46


@pytest.fixture(scope="module")
def crash_stack(servers: Servers) -> Iterator[Stack]:
    root = servers.root / "notify-crash"
    port = embedded.free_port()
    nats = embedded.start_nats(port, root / "nats", servers.root / "notify-crash-nats.log")
    receiver = Receiver(delay=0.3)  # slow: a batch stays in flight long enough to be cut
    receiver.start()
    stack = Stack(
        f"nats://127.0.0.1:{port}", _fresh_database(servers, "crash"), root / "logs", receiver
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        receiver.stop()
        embedded.stop(nats)


def eventually(check: Callable[[], Any], within: float = 90.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)
    return result


def test_killing_notify_mid_batch_loses_and_doubles_no_notice(crash_stack: Stack) -> None:
    client = httpx.Client(timeout=30, headers=OFFICE)
    units = [f"crash-dept-{i:02d}" for i in range(30)]
    month = datetime.now(UTC).astimezone().strftime("%Y-%m")
    for i, unit in enumerate(units):
        body = {"unit_id": unit, "name": f"局{i}", "category": "department"}
        assert client.post(f"{crash_stack.url('issues')}/v1/units", json=body).status_code == 201
    for i, unit in enumerate(units):  # ranking learns the units from the bus (R1.2)
        score = {"unit_id": unit, "month": month, "score": str(60 + i)}

        def scored(score: dict[str, str] = score) -> bool:
            response = client.post(f"{crash_stack.url('ranking')}/v1/assessments", json=score)
            return response.status_code in (200, 202)

        eventually(scored, within=30)
    time.sleep(1.5)  # the cutoff must have passed (no edition for a future cutoff, R4.1)
    cutoff = (datetime.now(UTC) - timedelta(seconds=0.5)).isoformat()
    published = client.post(f"{crash_stack.url('ranking')}/v1/editions", json={"cutoff": cutoff})
    assert published.status_code == 200, published.text

    eventually(lambda: len(crash_stack.receiver.received) >= 3)
    crash_stack.kill("notify")  # mid-batch: some sent, the batch's outcomes not committed
    assert len(crash_stack.receiver.received) < OWED, "the kill came after the work was done"
    crash_stack.spawn("notify")
    crash_stack.wait_healthy(90)

    notify = crash_stack.url("notify")

    def all_delivered() -> list[dict[str, Any]] | None:
        mine = [
            n
            for unit in units
            for n in client.get(f"{notify}/v1/notifications", params={"unit_id": unit}).json()
        ]
        complete = len(mine) == OWED and all(n["status"] == "delivered" for n in mine)
        return mine if complete else None

    owed = eventually(all_delivered)
    ids_owed = {str(n["notification_id"]) for n in owed}
    received_ids = {
        r["headers"].get("webhook-id") or r["headers"].get("Webhook-Id")
        for r in crash_stack.receiver.received
    }
    assert ids_owed <= received_ids, "a notice owed was never delivered"
    ours = {i for i in received_ids if i in ids_owed}
    assert len(ours) == len(ids_owed)
    assert len(ids_owed) == OWED
