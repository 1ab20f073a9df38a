"""Issue 7, security on the bus: deploy/'s users and deny-by-default permissions refuse every
publish and subscribe a user is not given (the whole chain running on them is in
tests/e2e/test_whole_chain.py, secured-bus)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import nats.errors
import nats.js.errors
import pytest

from services.contracts.streams import ISSUES
from tests.conftest import SecuredServers

pytestmark = pytest.mark.integration


class Connection:
    """A NATS connection as ``user`` that records the permission violations it is told of."""

    def __init__(self, nc: Any, violations: list[str]) -> None:
        self.nc = nc
        self.violations = violations

    async def refused(self, action: str) -> bool:
        await self.nc.flush(timeout=2)
        await asyncio.sleep(0.2)
        return any(
            f"permissions violation for {action}".lower() in v.lower() for v in self.violations
        )


@pytest.fixture
async def connect(secured_servers: SecuredServers) -> AsyncIterator[Any]:
    opened: list[Any] = []

    async def open_as(user: str) -> Connection:
        violations: list[str] = []

        async def on_error(exc: Exception) -> None:
            violations.append(str(exc))

        nc = await nats.connect(
            secured_servers.url_for(user), error_cb=on_error, max_reconnect_attempts=0
        )
        opened.append(nc)
        return Connection(nc, violations)

    yield open_as
    for nc in opened:
        await nc.close()


async def test_nobody_gets_in_without_a_user(secured_servers: SecuredServers) -> None:
    with pytest.raises((nats.errors.NoServersError, nats.errors.Error, OSError)):
        await nats.connect(
            secured_servers.nats_url,
            max_reconnect_attempts=0,
            allow_reconnect=False,
            connect_timeout=2,
        )


@pytest.mark.parametrize(
    ("user", "own", "foreign"),
    [
        ("issues", "issues.v1.reported", "ranking.v1.edition_published"),
        ("ranking", "ranking.v1.edition_published", "incentives.v1.allocated"),
        ("incentives", "incentives.v1.allocated", "notify.v1.delivered"),
        ("notify", "notify.v1.delivered", "issues.v1.voided"),
        ("reader", None, "issues.v1.reported"),
        ("assessor", "assessments.v1.scored", "units.v1.registered"),
    ],
)
async def test_a_user_publishes_only_its_own_subjects(
    connect: Any, user: str, own: str | None, foreign: str
) -> None:
    conn = await connect(user)
    if own is not None:
        await conn.nc.publish(own, b"{}")
        assert not await conn.refused(f'Publish to "{own}"')
    await conn.nc.publish(foreign, b"{}")
    assert await conn.refused(f'Publish to "{foreign}"')
    await conn.nc.publish(f"dlq.someone-else-{user}", b"{}")
    assert await conn.refused('Publish to "dlq.someone-else')


@pytest.mark.parametrize("user", ["issues", "ranking", "notify", "incentives", "reader"])
async def test_nobody_subscribes_to_events_outside_its_consumers(connect: Any, user: str) -> None:
    conn = await connect(user)
    await conn.nc.subscribe("issues.v1.>")
    assert await conn.refused('Subscription to "issues.v1.>"')


async def test_the_reader_reads_through_its_own_durable_but_never_a_services(
    connect: Any,
) -> None:
    issues = await connect("issues")
    js = issues.nc.jetstream()
    with contextlib.suppress(nats.js.errors.BadRequestError):  # an earlier test made it
        await js.add_stream(name=ISSUES.name, subjects=list(ISSUES.subjects))
    marker = uuid.uuid4().hex
    await js.publish("units.v1.registered", marker.encode())

    reader = await connect("reader")
    rjs = reader.nc.jetstream()
    sub = await rjs.pull_subscribe(
        "units.v1.registered", durable=f"audit-{marker[:8]}", stream=ISSUES.name
    )
    seen = [m.data.decode() for m in await sub.fetch(100, timeout=5)]
    assert marker in seen
    with pytest.raises((nats.errors.TimeoutError, nats.js.errors.Error)):
        await rjs.consumer_info(ISSUES.name, "ranking-issues", timeout=2)
    with pytest.raises((nats.errors.TimeoutError, nats.js.errors.Error)):
        await rjs.delete_stream(ISSUES.name)
    with pytest.raises(
        (nats.errors.TimeoutError, nats.errors.NoRespondersError, nats.js.errors.Error)
    ):
        await rjs.publish("units.v1.registered", b"forged", timeout=2)
