"""``cmd.issues.v1.report``: internal systems report issues by request-reply (R2.1-R2.2)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import nats
import pytest

from services.contracts.commands import REPORT_ISSUE, CommandReply
from tests.conftest import Servers

pytestmark = pytest.mark.integration


@pytest.fixture
async def nc(servers: Servers) -> AsyncIterator[Any]:
    client = await nats.connect(servers.nats_url)
    try:
        yield client
    finally:
        await client.drain()


def command(unit_id: str, **changes: Any) -> dict[str, Any]:
    body = {
        "unit_id": unit_id,
        "category": "占道经营",
        "point_type": "road",
        "description": "人行道上摆摊",
        "location": {"address": "江门市江海区", "lat": "22.57", "lon": "113.11"},
        "found_at": "2018-05-02T09:00:00+08:00",
        "inspector": "李四",
        "team": "第二督查组",
        "request_id": str(uuid.uuid4()),
    }
    return {**body, **changes}


async def ask(nc: Any, body: dict[str, Any]) -> CommandReply:
    reply = await nc.request(REPORT_ISSUE, json.dumps(body).encode(), timeout=10)
    return CommandReply.model_validate_json(reply.data)


async def test_a_valid_report_command_replies_with_the_created_issue(
    issues_api: httpx.AsyncClient, nc: Any
) -> None:
    unit = f"cmd-{uuid.uuid4().hex[:8]}"
    created = await issues_api.post(
        "/v1/units", json={"unit_id": unit, "name": "江海区", "category": "district"}
    )
    assert created.status_code == 201
    body = command(unit)
    reply = await ask(nc, body)
    assert reply.ok
    assert reply.result is not None
    assert reply.result["unit_id"] == unit
    assert reply.result["state"] == "open"
    # R2.2: no explicit deadline -> found_at + the default 3 days.
    deadline = datetime.fromisoformat(reply.result["deadline"])
    assert deadline == datetime(2018, 5, 5, 1, tzinfo=UTC)
    # Retrying the same request creates nothing new.
    again = await ask(nc, body)
    assert again.result == reply.result


async def test_an_invalid_command_gets_an_error_reply_with_field_paths(
    issues_api: httpx.AsyncClient, nc: Any
) -> None:
    body = command("dist-x", location={"lat": "95"})
    reply = await ask(nc, body)
    assert not reply.ok
    assert reply.error is not None
    assert reply.error.code == "invalid"
    paths = {f.path for f in reply.error.fields}
    assert {"location.address", "location.lat"} <= paths
    # ... and the operators find it among the dead letters, with the reason.
    sub = await nc.jetstream().pull_subscribe("dlq.issues", stream="DLQ")
    letters = [json.loads(m.data) for m in await sub.fetch(20, timeout=2)]
    assert any(
        d["original_subject"] == "cmd.issues.v1.report" and "location.address" in d["reason"]
        for d in letters
    )


async def test_a_report_for_an_unknown_unit_is_refused_and_creates_nothing(
    issues_api: httpx.AsyncClient, nc: Any
) -> None:
    reply = await ask(nc, command("no-such-unit"))
    assert not reply.ok
    assert reply.error is not None
    assert reply.error.code == "not_found"
    assert [f.path for f in reply.error.fields] == ["unit_id"]


async def test_the_same_request_sent_twice_at_once_creates_one_issue(
    issues_api: httpx.AsyncClient, nc: Any
) -> None:
    unit = f"cmd-{uuid.uuid4().hex[:8]}"
    await issues_api.post(
        "/v1/units", json={"unit_id": unit, "name": "新会区", "category": "district"}
    )
    body = command(unit)
    first, second = await asyncio.gather(ask(nc, body), ask(nc, body))
    assert first.ok
    assert second.ok
    assert first.result == second.result


async def test_a_command_without_a_request_id_is_refused(
    issues_api: httpx.AsyncClient, nc: Any
) -> None:
    body = command("dist-x")
    del body["request_id"]
    reply = await ask(nc, body)
    assert reply.error is not None
    assert [f.path for f in reply.error.fields] == ["request_id"]
