"""R5.1 and R5.4 on real NATS + PostgreSQL: issues and allocations reach a real receiver,
in whatever order their events arrive."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from .conftest import Notify, dead_letters, eventually, unit_ids
from .events import allocated, overdue, publish_event, rectified, reported

pytestmark = pytest.mark.integration


def _sent(notify: Notify, kind: str) -> list[dict[str, Any]]:
    return [
        r.json
        for r in notify.receiver.requests
        if r.status == 200 and r.json.get("notice_type") == kind
    ]


async def test_a_report_sends_the_supervision_notice_and_overdue_reaches_unit_and_office(
    notify: Notify, js: Any
) -> None:
    (unit,) = unit_ids("dist", 1)
    issue = reported(unit, timedelta(days=3))
    # Other services' events may arrive in any order: overdue first.
    await publish_event(js, overdue(issue))
    await publish_event(js, issue)

    async def both() -> bool:
        mine = [n for n in _sent(notify, "overdue") if n["key_numbers"]["unit_id"] == unit]
        return len(mine) == 2 and any(n["unit_id"] == unit for n in _sent(notify, "supervision"))

    await eventually(both)
    supervision = next(n for n in _sent(notify, "supervision") if n["unit_id"] == unit)
    assert supervision["title"] == f"督办通知书（{issue.number}）"
    assert issue.number in supervision["text"] and "整改期限" in supervision["text"]
    recipients = Counter(
        n["recipient"] for n in _sent(notify, "overdue") if n["key_numbers"]["unit_id"] == unit
    )
    assert recipients == Counter([f"unit:{unit}", "office:campaign_office"])


async def test_a_batch_that_plans_a_notice_wakes_the_delivery_worker(
    unpolled_notify: Notify, js: Any
) -> None:
    """The issue consumers' batch commit wakes the worker (``on_planned``); its own poll is
    an hour here."""
    (unit,) = unit_ids("dist-woken", 1)
    await publish_event(js, reported(unit, timedelta(days=3)))

    async def sent() -> bool:
        return any(n["unit_id"] == unit for n in _sent(unpolled_notify, "supervision"))

    await eventually(sent)


async def test_a_backfilled_issues_historical_overdue_sends_no_overdue_notice(
    notify: Notify, js: Any
) -> None:
    # R5.1/R2.1: an imported ledger's past overdue spells were dealt with before this system.
    old_unit, live_unit = unit_ids("dist-imported", 2)
    backfilled, live = reported(old_unit, timedelta(days=3)), reported(live_unit, timedelta(days=3))
    backfilled = backfilled.model_copy(update={"imported": True})
    imported_overdue = overdue(backfilled, imported=True)
    await publish_event(js, backfilled)
    await publish_event(js, imported_overdue)
    await publish_event(js, live)
    await publish_event(js, overdue(live))  # the control

    async def both_applied() -> bool:
        units = {n["key_numbers"]["unit_id"] for n in _sent(notify, "overdue")}
        applied = await notify.rows(
            "SELECT 1 FROM processed_events WHERE event_id = %s", imported_overdue.event_id
        )
        return live_unit in units and bool(applied)

    await eventually(both_applied)
    rows = await notify.rows(
        "SELECT count(*) AS n FROM deliveries WHERE notice_type = 'overdue' AND about LIKE %s",
        f"%{backfilled.issue_id}%",
    )
    assert rows[0]["n"] == 0
    assert old_unit not in {n["key_numbers"]["unit_id"] for n in _sent(notify, "overdue")}


async def test_the_reminder_goes_out_24_hours_before_the_deadline_once_and_not_after_a_fix(
    notify: Notify, js: Any
) -> None:
    due, fixed = unit_ids("town", 2)
    soon = reported(due, timedelta(hours=23))
    fixed_soon = reported(fixed, timedelta(hours=23))
    fix = rectified(fixed_soon)
    await publish_event(js, fix)  # the fix overtakes the report
    # Applied before the report is sent: each subject has a consumer of its own, so published
    # first is not applied first (a report applied alone is due for its reminder at once).
    applied = "SELECT 1 FROM processed_events WHERE event_id = %s"
    await eventually(lambda: _exists(notify, applied, fix.event_id))
    await publish_event(js, fixed_soon)
    await publish_event(js, soon)

    async def reminded() -> bool:
        return any(n["unit_id"] == due for n in _sent(notify, "reminder"))

    await eventually(reminded)
    await eventually(
        lambda: _count(notify, fixed, "supervision", 1),  # the report still notifies
    )
    assert [n["unit_id"] for n in _sent(notify, "reminder")].count(due) == 1
    assert not any(n["unit_id"] == fixed for n in _sent(notify, "reminder"))


async def _exists(notify: Notify, sql: str, *params: Any) -> bool:
    return bool(await notify.rows(sql, *params))


async def _count(notify: Notify, unit: str, kind: str, n: int) -> bool:
    return [x["unit_id"] for x in _sent(notify, kind)].count(unit) == n


async def test_an_allocation_sends_award_notices_and_the_finance_summary(
    notify: Notify, js: Any
) -> None:
    a, b = unit_ids("dept", 2)
    event = allocated(2199, {a: 8_000_000, b: 7_094_339})
    await publish_event(js, event)
    # Redelivered past JetStream's duplicate window: applied once, nothing sent twice.
    await publish_event(js, event, msg_id=f"again-{event.event_id}")

    async def sent() -> bool:
        return {n["unit_id"] for n in _sent(notify, "award")} >= {a, b} and any(
            n["about"] == "allocation:2199-1-r1" for n in _sent(notify, "finance_summary")
        )

    await eventually(sent)
    award = next(n for n in _sent(notify, "award") if n["unit_id"] == b)
    assert "70943.39 元" in award["text"]
    summary = next(
        n for n in _sent(notify, "finance_summary") if n["about"].startswith("allocation:2199")
    )
    assert summary["recipient"] == "office:finance_office"
    assert [a, "80000.00"] in summary["items"]
    rows = await notify.rows(
        "SELECT count(*) AS n FROM deliveries WHERE about = %s", event_about(event)
    )
    assert rows[0]["n"] == 3


def event_about(event: Any) -> str:
    return f"allocation:{event.year}-{event.edition}-r{event.revision}"


async def test_a_batch_with_a_redelivered_report_and_a_malformed_one_plans_each_notice_once(
    notify: Notify, js: Any
) -> None:
    """Issue events are applied a fetched batch at a time: a report delivered twice plans one
    supervision notice, and an invalid message is dead-lettered alone while the rest apply."""
    units = unit_ids("batch", 3)
    issues = [reported(u, timedelta(days=3)) for u in units]
    broken = json.dumps({"type": "issues.v1.reported", "unit_id": units[0]}).encode()
    await js.publish("issues.v1.reported", broken, headers={"Nats-Msg-Id": f"broken-{units[0]}"})
    for issue in issues:
        await publish_event(js, issue)
        # Past JetStream's duplicate window (another message id): the consumer must drop it.
        await publish_event(js, issue, msg_id=f"again-{issue.event_id}")

    async def all_sent() -> bool:
        return {n["unit_id"] for n in _sent(notify, "supervision")} >= set(units)

    await eventually(all_sent)
    sql = "SELECT count(*) AS n FROM deliveries WHERE unit_id = ANY(%s) AND notice_type = %s"
    (row,) = await notify.rows(sql, units, "supervision")
    assert row["n"] == 3
    (mine,) = [d for d in await dead_letters(js) if units[0] in d["payload"]]
    assert mine["original_subject"] == "issues.v1.reported" and "issue_id" in mine["reason"]
