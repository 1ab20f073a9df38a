"""Channels on real servers: WeCom and DingTalk robots (signed URL), their pacing, secrets kept
out of the logs, and a worker killed mid-batch."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pythonjsonlogger.json import JsonFormatter

from services.notify.channels import REDACTED, Sender
from services.notify.domain.robots import dingtalk_sign
from tests.conftest import Servers

from .conftest import SECRET, Notify, edition, eventually, publish, start_notify, unit_ids
from .events import publish_event, reported
from .receiver import Receiver

pytestmark = pytest.mark.integration

WECOM_KEY = "wecom-key-6b1f0c9e-0d4f-4a1e-9c55-3f1f1f1f1f1f"
DING_TOKEN = "ding-token-55aa55aa55aa55aa55aa55aa55aa55aa"
DING_SECRET = "SECd1f2e3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2"
OK = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()


def _robot(target: str, headers: dict[str, str]) -> tuple[int, bytes, str]:
    """A robot's answer; a DingTalk request whose signature does not verify gets errcode 310000."""
    if target.startswith("/robot/send"):
        query = parse_qs(urlsplit(target).query)
        ts = int(query["timestamp"][0])
        if query.get("sign") != [dingtalk_sign(DING_SECRET, ts)]:
            return 200, json.dumps({"errcode": 310000}).encode(), ""
    return 200, OK, ""


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every log record of the run, as the services write them (JSON, DEBUG and up)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s"))
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    levels = root.level, httpx_logger.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    httpx_logger.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        httpx_logger.setLevel(levels[1])


@pytest.fixture
async def robots(server_env: Servers) -> AsyncIterator[Notify]:
    receiver = Receiver(respond=_robot)
    await receiver.start()
    try:
        async for running in start_notify(
            receiver, robot_rate_limit=3, robot_rate_window_seconds=1.0
        ):
            yield running
    finally:
        await receiver.stop()


async def _register_robots(notify: Notify, unit: str) -> str:
    base = notify.receiver.url.rsplit("/hooks", 1)[0]
    body = {
        "name": "测试区",
        "contacts": [{"name": "李四", "phone": "13800000000"}],
        "channels": [
            {
                "name": "wecom",
                "kind": "wecom",
                "url": f"{base}/cgi-bin/webhook/send?key={WECOM_KEY}",
            },
            {
                "name": "ding",
                "kind": "dingtalk",
                "url": f"{base}/robot/send?access_token={DING_TOKEN}",
                "secret": DING_SECRET,
            },
        ],
    }
    got = await notify.http.put(f"/v1/recipients/unit:{unit}", json=body)
    assert got.status_code == 204, got.text
    return base


def _robot_requests(notify: Notify, path: str) -> list[Any]:
    return [r for r in notify.receiver.requests if r.target.startswith(path)]


async def test_robots_get_markdown_dingtalk_a_signed_url_and_secrets_never_reach_the_logs(
    robots: Notify, js: Any, logs: io.StringIO
) -> None:
    (unit,) = unit_ids("dist", 1)
    await _register_robots(robots, unit)
    issue = reported(unit, timedelta(days=3))
    await publish_event(js, issue)

    async def both() -> bool:
        return bool(_robot_requests(robots, "/cgi-bin")) and bool(_robot_requests(robots, "/robot"))

    await eventually(both)
    wecom = json.loads(_robot_requests(robots, "/cgi-bin")[0].body)
    assert wecom["msgtype"] == "markdown" and issue.number in wecom["markdown"]["content"]
    ding = _robot_requests(robots, "/robot")[0]
    assert json.loads(ding.body)["markdown"]["title"] == f"督办通知书（{issue.number}）"

    async def delivered() -> bool:
        got = await robots.http.get("/v1/notifications", params={"unit_id": unit})
        return {(n["channel"], n["status"]) for n in got.json()} == {
            ("webhook", "delivered"),
            (f"unit:{unit}/wecom", "delivered"),
            (f"unit:{unit}/ding", "delivered"),
        }

    await eventually(delivered)
    listed = (await robots.http.get("/v1/recipients")).json()
    mine = next(r for r in listed if r["recipient"] == f"unit:{unit}")
    assert WECOM_KEY not in json.dumps(mine) and DING_SECRET not in json.dumps(mine)

    text = logs.getvalue()
    for secret in (SECRET, WECOM_KEY, DING_TOKEN, DING_SECRET):
        assert secret not in text
    # Positive control: the secrets were handled, and logged as the redaction marker.
    assert '"secret": "' + REDACTED + '"' in text
    assert "HTTP Request: POST" in text  # httpx logged the robots' URLs, with masked queries


async def test_a_robot_is_paced_to_its_limit_and_nothing_is_dropped(
    robots: Notify, js: Any
) -> None:
    # Settings: 3 messages per 1-second window (20 per minute in production).
    (unit,) = unit_ids("dept", 1)
    await _register_robots(robots, unit)
    issues = [reported(unit, timedelta(days=3)) for _ in range(9)]
    for issue in issues:
        await publish_event(js, issue)

    async def all_sent() -> bool:
        return len(_robot_requests(robots, "/cgi-bin")) >= 9

    await eventually(all_sent, within=30)
    wecom = [r for r in robots.receiver.requests if r.target.startswith("/cgi-bin")]
    numbers = {json.loads(r.body)["markdown"]["content"].split("（")[1][:14] for r in wecom}
    assert numbers == {i.number for i in issues}
    sql = "SELECT at FROM delivery_attempts WHERE channel = %s ORDER BY at"
    channel = f"unit:{unit}/wecom"

    async def all_recorded() -> bool:
        return len(await robots.rows(sql, channel)) == 9

    await eventually(all_recorded)
    rows = await robots.rows(sql, channel)
    times = [r["at"] for r in rows]
    assert len(times) == 9
    window = timedelta(seconds=1)
    assert max(sum(s <= t < s + window for t in times) for s in times) <= 3


async def test_two_recipients_sharing_one_robot_share_its_limit(robots: Notify, js: Any) -> None:
    # R5: the limit is the robot's (3 per second here), not each channel's that points at it.
    units = unit_ids("shared", 2)
    base = robots.receiver.url.rsplit("/hooks", 1)[0]
    for unit in units:
        body = {
            "name": "共用机器人",
            "channels": [
                {
                    "name": "wecom",
                    "kind": "wecom",
                    "url": f"{base}/cgi-bin/webhook/send?key={WECOM_KEY}-shared",
                }
            ],
        }
        got = await robots.http.put(f"/v1/recipients/unit:{unit}", json=body)
        assert got.status_code == 204, got.text
    for unit in units:
        for _ in range(4):
            await publish_event(js, reported(unit, timedelta(days=3)))
    sql = (
        "SELECT at FROM delivery_attempts a JOIN deliveries d USING (delivery_id)"
        " WHERE d.channel = ANY(%s) ORDER BY at"
    )
    channels = [f"unit:{u}/wecom" for u in units]

    async def all_recorded() -> bool:
        return len(await robots.rows(sql, channels)) == 8

    await eventually(all_recorded, within=30)
    times = [r["at"] for r in await robots.rows(sql, channels)]
    window = timedelta(seconds=1)
    assert max(sum(s <= t < s + window for t in times) for s in times) <= 3


async def test_a_worker_killed_mid_batch_sends_every_notice_again_under_the_same_webhook_id(
    server_env: Servers, js: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = Receiver()
    await receiver.start()
    units = unit_ids("kill", 6)
    real_send = Sender.send
    sent = 0

    async def dies_after_three(self: Sender, *args: Any) -> Any:
        nonlocal sent
        sent += 1
        if sent > 3:
            await asyncio.Event().wait()  # frozen until the process is killed
        return await real_send(self, *args)

    running = contextlib.asynccontextmanager(start_notify)
    try:
        monkeypatch.setattr(Sender, "send", dies_after_three)
        async with running(receiver):
            await publish(js, edition(units, red=[units[0]], black=[units[-1]]))
            await eventually(lambda: _received(receiver, units, 3))
        # Stopped mid-batch, like a killed process: its open transaction rolled back.
        monkeypatch.setattr(Sender, "send", real_send)
        async with running(receiver) as second:
            owed = await second.rows(
                "SELECT delivery_id FROM deliveries WHERE unit_id = ANY(%s)", units
            )
            assert (
                await second.rows(
                    "SELECT 1 FROM deliveries WHERE unit_id = ANY(%s) AND attempts > 0", units
                )
                == []
            )

            async def all_delivered() -> bool:
                got = await second.rows(
                    "SELECT count(*) AS n FROM deliveries WHERE unit_id = ANY(%s)"
                    " AND status = 'delivered'",
                    units,
                )
                return bool(got[0]["n"] == len(owed))

            await eventually(all_delivered)
    finally:
        await receiver.stop()
    mine = [r for r in receiver.requests if r.json.get("unit_id") in set(units)]
    ids = {r.headers["webhook-id"] for r in mine}
    assert len(owed) == 6 + 1 + 2  # rate reports, a commendation, a criticism and its talk
    assert ids == {str(r["delivery_id"]) for r in owed}
    assert len(mine) > len(ids)  # the killed batch was sent in part, then again in full


async def _received(receiver: Receiver, units: list[str], n: int) -> bool:
    return len([r for r in receiver.requests if r.json.get("unit_id") in set(units)]) >= n
