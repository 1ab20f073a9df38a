"""The issues service on the session's real servers, started without HTTP (its runtime only)
and called through httpx's ASGI transport with dev bearer tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.issues.app import build
from services.issues.overdue import OverdueScheduler
from services.runtime.service import ServiceRuntime
from tests.conftest import Servers


@dataclass
class Issues:
    """One running replica: its app, runtime and a client per bearer token."""

    app: FastAPI
    runtime: ServiceRuntime

    def client(self, token: str = "dev-office") -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url="http://issues",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    @property
    def scheduler(self) -> OverdueScheduler:
        scheduler: OverdueScheduler = self.app.state.scheduler
        return scheduler


@pytest.fixture
async def replicas(server_env: Servers) -> AsyncIterator[Callable[[int], Any]]:
    """Start ``n`` replicas of the service (the runtime only: tests drive the scheduler)."""
    started: list[Issues] = []

    async def start(n: int) -> list[Issues]:
        for _ in range(n):
            app, runtime = build()
            await runtime.start()
            started.append(Issues(app, runtime))
        return started[-n:]

    try:
        yield start
    finally:
        for replica in started:
            await replica.runtime.stop()


@pytest.fixture
async def issues_service(replicas: Callable[[int], Any]) -> Issues:
    started: list[Issues] = await replicas(1)
    return started[0]


@pytest.fixture
async def issues_api(issues_service: Issues) -> AsyncIterator[httpx.AsyncClient]:
    async with issues_service.client() as client:
        yield client


def unique(prefix: str) -> str:
    """A unit id no other test of the session uses (the database is shared)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def intake(unit_id: str, **changes: Any) -> dict[str, Any]:
    body = {
        "unit_id": unit_id,
        "category": "占道经营",
        "point_type": "road",
        "description": "人行道上摆摊",
        "location": {"address": "江门市江海区", "lat": "22.57", "lon": "113.11"},
        "found_at": "2018-05-02T09:00:00+08:00",
        "inspector": "李四",
        "team": "第二督查组",
    }
    return {**body, **changes}
