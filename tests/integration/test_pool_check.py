"""The pool's checkout check on real PostgreSQL: a connection the server ended is never handed
out, and a healthy one is handed out without a query."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from services.runtime.db import check_idle_connection, open_pool
from tests.conftest import Servers

pytestmark = pytest.mark.integration


async def test_a_connection_the_server_ended_is_replaced_before_it_is_used(
    servers: Servers,
) -> None:
    pool = await open_pool(servers.database_url, "public", 1)
    try:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT pg_backend_pid() AS pid")
            row = await cur.fetchone()
            assert row is not None
            ended = row["pid"]
        async with await psycopg.AsyncConnection.connect(
            servers.database_url, autocommit=True
        ) as admin:
            # With a timeout, it returns once the backend is gone.
            await admin.execute("SELECT pg_terminate_backend(%s, 5000)", (ended,))
        async with pool.connection(timeout=10) as conn:
            cur = await conn.execute("SELECT pg_backend_pid() AS pid")
            row = await cur.fetchone()
            assert row is not None
            assert row["pid"] != ended
    finally:
        await pool.close()


async def test_only_a_connection_with_something_to_read_is_checked_with_a_query(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    queried: list[object] = []

    async def query_check(conn: object) -> None:
        queried.append(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", staticmethod(query_check))
    async with await psycopg.AsyncConnection.connect(servers.database_url) as conn:
        await conn.execute("SELECT 1")
        await conn.rollback()
        await check_idle_connection(conn)  # type: ignore[arg-type]
        assert queried == []  # healthy and idle: no round trip
        cur = await conn.execute("SELECT pg_backend_pid() AS pid")
        pid = (await cur.fetchone() or (0,))[0]
        await conn.rollback()
        async with await psycopg.AsyncConnection.connect(
            servers.database_url, autocommit=True
        ) as admin:
            await admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        await check_idle_connection(conn)  # type: ignore[arg-type]
        assert queried == [conn]  # ended by the server: checked with a query
