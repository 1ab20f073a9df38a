"""Ranking on a NATS server and a database of its own: these tests assert on whole editions and
rebuild from every stream, which other tests' events would disturb."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import nats
import psycopg
import pytest
from psycopg import sql

from services.ranking.app import build
from services.ranking.settings import RankingSettings
from services.runtime import embedded
from tests.conftest import Servers
from tests.integration.ranking.support import Ranking


@pytest.fixture(scope="module")
def own_servers(servers: Servers) -> Iterator[Servers]:
    root = servers.root / f"ranking-{uuid.uuid4().hex[:6]}"
    port = embedded.free_port()
    proc = embedded.start_nats(port, root / "nats", root.with_suffix(".nats.log"))
    name = f"ranking_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield Servers(
            nats_url=f"nats://127.0.0.1:{port}",
            database_url=servers.database_url.rsplit("/", 1)[0] + f"/{name}",
            root=root,
        )
    finally:
        embedded.stop(proc)


def ranking_settings(servers: Servers) -> RankingSettings:
    return RankingSettings(
        nats_url=servers.nats_url,
        database_url=servers.database_url,
        auth_mode="dev",
        schedule_enabled=False,  # tests drive the schedule with their own clock
        log_level="WARNING",
    )


@contextlib.asynccontextmanager
async def running(servers: Servers) -> AsyncIterator[Ranking]:
    """The ranking service (started, not scheduling by itself) and a JetStream context."""
    app, runtime = build(ranking_settings(servers))
    await runtime.start()
    nc = await nats.connect(servers.nats_url)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://ranking",
            headers={"Authorization": "Bearer dev-office"},
        ) as client:
            yield Ranking(client, nc.jetstream(), runtime, app.state.schedule)
    finally:
        await nc.drain()
        await runtime.stop()


@pytest.fixture
async def ranking(own_servers: Servers) -> AsyncIterator[Ranking]:
    async with running(own_servers) as service:
        yield service
