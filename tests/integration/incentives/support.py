"""Helpers of the incentives integration tests: replicas, waiting, publishing, reading a
stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import nats

from services.contracts.base import to_wire
from services.contracts.ranking import EditionPublished
from services.incentives.app import build
from services.incentives.domain.fund import FundSettings
from services.incentives.settings import IncentivesSettings
from services.runtime.service import ServiceRuntime


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def publish(js: Any, event: EditionPublished, msg_id: str | None = None) -> None:
    headers = {"Nats-Msg-Id": msg_id or str(event.event_id)}
    await js.publish(event.SUBJECT, to_wire(event), headers=headers)


async def fetch_all(js: Any, subject: str, stream: str) -> list[bytes]:
    sub = await js.pull_subscribe(subject, stream=stream)
    found: list[bytes] = []
    try:
        while True:
            try:
                found += [m.data for m in await sub.fetch(100, timeout=1)]
            except nats.errors.TimeoutError:
                return found
    finally:
        await sub.unsubscribe()


@dataclass
class Incentives:
    """One running replica of the incentives service and an HTTP client to it."""

    http: httpx.AsyncClient
    runtime: ServiceRuntime


@contextlib.asynccontextmanager
async def replica(
    token: str = "dev-viewer", fund: FundSettings | None = None
) -> AsyncIterator[Incentives]:
    """Start one replica (``build()``, with the app's lifespan) on the test servers; every
    replica in the process shares the durable consumer, as replicas in production do."""
    settings: dict[str, Any] = {"nak_delays_seconds": (0.2,), "max_deliver": 3}
    if fund is not None:
        settings["fund"] = fund
    app, runtime = build(IncentivesSettings(**settings))
    # ASGITransport does not run the lifespan: it is entered here, as uvicorn would.
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://incentives", headers=headers
        ) as http:
            yield Incentives(http, runtime)


async def settled(svc: Incentives, year: int, number: int, revisions: int = 1) -> None:
    """Wait until ``revisions`` revisions of edition ``number`` of ``year`` are settled."""

    async def done() -> bool:
        response = await svc.http.get(f"/v1/allocations/{year}/{number}")
        return response.status_code == 200 and len(response.json()["revisions"]) == revisions

    await eventually(done)
