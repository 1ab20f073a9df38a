"""The delivery worker's chores fail on their own: a send that raises is that row's outcome
(retried later), never a rollback of the batch; a failing reminder scheduler does not stop
deliveries."""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

import pytest

from services.notify.channels import Sender
from services.notify.triggers import Triggers
from tests.conftest import Servers

from .conftest import edition, eventually, publish, start_notify, unit_ids
from .receiver import Receiver

pytestmark = pytest.mark.integration


async def _all_delivered(running: Any, units: list[str], n: int) -> bool:
    got = await running.rows(
        "SELECT count(*) AS n FROM deliveries WHERE unit_id = ANY(%s) AND status = 'delivered'",
        units,
    )
    return bool(got[0]["n"] == n)


async def test_a_send_that_raises_is_retried_alone_and_no_other_notice_is_sent_twice(
    server_env: Servers, js: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver()
    await receiver.start()
    units = unit_ids("boom", 4)
    real_send = Sender.send
    raised: list[str] = []

    async def one_raises_once(
        self: Sender, target: Any, msg_id: str, payload: Any, now: Any
    ) -> Any:
        if payload.get("unit_id") == units[1] and not raised:
            raised.append(msg_id)
            raise RuntimeError("a bug in one send")
        return await real_send(self, target, msg_id, payload, now)

    monkeypatch.setattr(Sender, "send", one_raises_once)
    try:
        async with contextlib.asynccontextmanager(start_notify)(receiver) as running:
            await publish(js, edition(units, red=[units[0]], black=[]))
            owed = 4 + 1  # rate reports and a commendation
            await eventually(lambda: _all_delivered(running, units, owed))
            attempts = await running.rows(
                "SELECT d.unit_id, a.outcome, a.detail FROM delivery_attempts a"
                " JOIN deliveries d USING (delivery_id) WHERE d.unit_id = ANY(%s)"
                " AND a.outcome = 'retry'",
                units,
            )
    finally:
        await receiver.stop()
    assert len(raised) == 1
    assert [(a["unit_id"], a["detail"]) for a in attempts] == [
        (units[1], "unexpected error: RuntimeError")
    ]
    mine = [r for r in receiver.requests if r.json.get("unit_id") in set(units)]
    per_id = Counter(r.headers["webhook-id"] for r in mine)
    assert len(per_id) == owed
    assert set(per_id.values()) == {1}  # the rest of the batch was not rolled back and resent


async def test_deliveries_go_out_while_the_reminder_scheduler_keeps_failing(
    server_env: Servers, js: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver()
    await receiver.start()
    units = unit_ids("remind-broken", 2)
    calls = 0

    async def broken(self: Triggers, limit: int) -> int:
        nonlocal calls
        calls += 1
        raise RuntimeError("a bad tracked_issues row")

    monkeypatch.setattr(Triggers, "remind_due", broken)
    try:
        async with contextlib.asynccontextmanager(start_notify)(receiver) as running:
            await publish(js, edition(units, red=[units[0]], black=[]))
            await eventually(lambda: _all_delivered(running, units, 2 + 1))
    finally:
        await receiver.stop()
    assert calls >= 1
