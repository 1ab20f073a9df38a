"""What the office does over HTTP: talks (R5.3), resends, recipients by CSV, template previews,
and who may do it."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Notify, edition, eventually, publish, unit_ids

pytestmark = pytest.mark.integration


async def test_the_office_schedules_a_talk_then_records_it_held_with_minutes(
    notify: Notify, js: Any
) -> None:
    (unit,) = unit_ids("dept", 1)
    await publish(js, edition([unit], red=[], black=[unit]))

    async def ordered() -> bool:
        return len((await notify.http.get("/v1/talks", params={"unit_id": unit})).json()) == 1

    await eventually(ordered)
    (talk,) = (await notify.http.get("/v1/talks", params={"unit_id": unit})).json()
    url = f"/v1/talks/{talk['talk_id']}"
    early = await notify.http.post(f"{url}/held", json={"held_on": "2100-06-10", "minutes": "纪要"})
    assert early.status_code == 409  # ordered → held skips scheduling
    assert (
        await notify.http.post(f"{url}/schedule", json={"date": "2100-06-10"})
    ).status_code == 200
    held = await notify.http.post(
        f"{url}/held", json={"held_on": "2100-06-10", "minutes": "区长参加约谈，承诺整改。"}
    )
    assert held.status_code == 200, held.text
    (after,) = (await notify.http.get("/v1/talks", params={"unit_id": unit})).json()
    assert (after["status"], after["held_on"], after["minutes"]) == (
        "held",
        "2100-06-10",
        "区长参加约谈，承诺整改。",
    )


async def test_a_delivered_notification_can_be_resent_under_a_new_webhook_id(
    unpolled_notify: Notify, js: Any
) -> None:
    """The resend wakes the delivery worker (its poll is an hour here), as planning does."""
    notify = unpolled_notify
    (unit,) = unit_ids("town", 1)
    await publish(js, edition([unit], red=[], black=[]))

    async def delivered() -> list[Any]:
        got = (await notify.http.get("/v1/notifications", params={"unit_id": unit})).json()
        return [n for n in got if n["status"] == "delivered"]

    async def any_delivered() -> bool:
        return bool(await delivered())

    await eventually(any_delivered)
    (first,) = await delivered()
    resent = await notify.http.post(f"/v1/notifications/{first['notification_id']}/resend")
    assert resent.status_code == 200 and resent.json()["resends"] == 1
    ids = [r.headers["webhook-id"] for r in notify.receiver.for_units({unit})]

    async def twice() -> bool:
        ids[:] = [r.headers["webhook-id"] for r in notify.receiver.for_units({unit})]
        return len(ids) == 2

    await eventually(twice)
    assert ids == [first["notification_id"], first["notification_id"] + ".1"]
    missing = await notify.http.post(
        "/v1/notifications/00000000-0000-4000-8000-000000000000/resend"
    )
    assert missing.status_code == 404


async def test_recipients_are_imported_from_csv_and_listed_without_secrets(notify: Notify) -> None:
    (unit,) = unit_ids("dist", 1)
    csv = (
        "recipient,name,contact_name,contact_phone,channel,kind,url,secret\n"
        f"unit:{unit},测试区,李四,13800000000,ding,dingtalk,"
        "https://oapi.dingtalk.com/robot/send?access_token=tok-secret,SECtop-secret\n"
    )
    got = await notify.http.post(
        "/v1/recipients/import", content=csv.encode(), headers={"content-type": "text/csv"}
    )
    assert got.json() == {"recipients": 1}
    listed = (await notify.http.get("/v1/recipients")).json()
    mine = next(r for r in listed if r["recipient"] == f"unit:{unit}")
    assert mine["channels"][0]["secret"] == "**********"
    assert "tok-secret" not in str(mine) and "top-secret" not in str(mine)
    bad = await notify.http.post("/v1/recipients/import", content=b"x,y\n1,2\n")
    assert bad.status_code == 422


async def test_templates_preview_with_sample_data(notify: Notify) -> None:
    got = await notify.http.get("/v1/templates/criticism/preview")
    assert got.status_code == 200
    assert "通报批评" in got.json()["title"] and "90.32%" in got.json()["text"]
    assert (await notify.http.get("/v1/templates/nonsense/preview")).status_code == 422


async def test_only_the_office_changes_things_and_a_unit_reads_only_its_own(
    notify: Notify,
) -> None:
    anonymous = await notify.http.get("/v1/notifications", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    viewer = {"Authorization": "Bearer dev-viewer"}
    put = await notify.http.put("/v1/recipients/unit:dept-x", json={"name": "x"}, headers=viewer)
    assert put.status_code == 403
    unit = {"Authorization": "Bearer dev-unit-dept-own"}
    got = await notify.http.get("/v1/notifications", params={"unit_id": "dept-other"}, headers=unit)
    assert got.status_code == 200 and all(n["unit_id"] == "dept-own" for n in got.json())
