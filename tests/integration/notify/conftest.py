"""The notify service on the real servers, with a real HTTP receiver."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from services.contracts.base import to_wire
from services.contracts.ranking import (
    Categories,
    CategoryBoard,
    Counts,
    EditionPublished,
    Exact,
    RankedUnit,
)
from services.notify.app import build
from services.notify.settings import NotifySettings
from services.runtime.service import ServiceRuntime
from tests.conftest import Servers

from .receiver import Receiver

OFFICE = {"Authorization": "Bearer dev-office"}
SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass
class Notify:
    app: FastAPI
    runtime: ServiceRuntime
    receiver: Receiver
    http: httpx.AsyncClient

    async def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        async with self.runtime.pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return list(await cur.fetchall())


async def start_notify(receiver: Receiver, **overrides: Any) -> AsyncIterator[Notify]:
    defaults: dict[str, Any] = {
        "webhook_url": receiver.url,
        "webhook_secret": SecretStr(SECRET),
        "allow_private_targets": True,
        "backoff_base_seconds": 0.05,
        "delivery_poll_seconds": 0.1,
        "nak_delays_seconds": (0.2,),
    }
    settings = NotifySettings(**(defaults | overrides))
    app, runtime = build(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://notify", headers=OFFICE
        ) as http,
    ):
        yield Notify(app, runtime, receiver, http)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
async def notify(server_env: Servers, receiver: Receiver) -> AsyncIterator[Notify]:
    async for running in start_notify(receiver):
        yield running


@pytest.fixture
async def unpolled_notify(server_env: Servers, receiver: Receiver) -> AsyncIterator[Notify]:
    """Notify whose delivery worker looks for due deliveries once an hour, and when woken."""
    async for running in start_notify(receiver, delivery_poll_seconds=3600):
        await asyncio.sleep(0.2)  # the worker's first look, at start, has found nothing
        yield running


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


def unit_ids(prefix: str, n: int) -> list[str]:
    """Unique per test: the database is shared by the whole session."""
    tag = uuid.uuid4().hex[:8]
    return [f"{prefix}-{tag}-{i}" for i in range(n)]


def _row(unit_id: str, rank: int, count: int) -> RankedUnit:
    rate = Exact(exact=f"{count - rank}/{count}", display=f"{100 * (count - rank) / count:.2f}")
    return RankedUnit(
        unit_id=unit_id,
        name=f"单位{unit_id[-1]}",
        parent_id=None,
        rank=rank,
        bottom_rank=count - rank + 1,
        composite=Exact(exact=f"{100 - rank}/1", display=f"{100 - rank}.00"),
        score=None,
        reported=count,
        rectified=count - rank,
        rate=rate,
        overdue=0,
        rework=0,
        on_time=count - rank,
        on_time_rate=rate,
    )


_YEARS = itertools.count(2100)


def edition(units: list[str], red: list[str], black: list[str]) -> EditionPublished:
    """One department edition, the first of a year of its own: the escalation state is shared
    by the session, and an edition n > 1 would wait for n - 1 (R5.3)."""
    empty = CategoryBoard(rows=[], red=[], black=[])
    rows = [_row(u, i + 1, len(units) + 10) for i, u in enumerate(units)]
    year = next(_YEARS)
    at = datetime(year, 6, 3, 16, tzinfo=UTC)
    number = 1
    return EditionPublished(
        event_id=uuid.uuid4(),
        occurred_at=at,
        producer="test",
        aggregate_id=f"edition-{year}-{number}",
        aggregate_version=1,
        year=year,
        number=number,
        revision=1,
        cutoff=at,
        published_at=at,
        rule_version="v1",
        input_positions={},
        categories=Categories(
            department=CategoryBoard(rows=rows, red=red, black=black), district=empty, town=empty
        ),
        campaign=Counts(
            reported=0, rectified=0, rate=None, overdue=0, rework=0, on_time=0, on_time_rate=None
        ),
    )


async def dead_letters(js: Any) -> list[dict[str, Any]]:
    """Every dead letter on ``dlq.notify`` so far (the session's notify tests share it)."""
    sub = await js.pull_subscribe("dlq.notify", stream="DLQ")
    letters: list[dict[str, Any]] = []
    try:
        while True:
            try:
                batch = await sub.fetch(500, timeout=2)
            except TimeoutError:
                return letters
            letters += [json.loads(m.data) for m in batch]
    finally:
        # Or the connection's drain waits 30 s for this subscription at the end of the test.
        await sub.unsubscribe()


async def publish(js: Any, event: EditionPublished, msg_id: str | None = None) -> None:
    await js.publish(
        event.SUBJECT, to_wire(event), headers={"Nats-Msg-Id": msg_id or str(event.event_id)}
    )
