"""PostgreSQL access: an async connection pool per service, pinned to the service's schema."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import cast

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

# Every connection of our pools returns rows as dicts.
Conn = psycopg.AsyncConnection[DictRow]
Pool = AsyncConnectionPool[Conn]


async def wait_for_database(url: str, within_seconds: float) -> None:
    """Retry until PostgreSQL accepts a connection: under a process manager the services may
    start before the database does."""
    deadline = time.monotonic() + within_seconds
    while True:
        try:
            conn = await psycopg.AsyncConnection.connect(url, connect_timeout=2)
            await conn.close()
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"PostgreSQL not reachable after {within_seconds}s: {exc}"
                ) from exc
            await asyncio.sleep(0.3)


async def open_pool(url: str, schema: str, max_size: int) -> Pool:
    """A pool whose connections see ``<schema>`` first, return rows as dicts and reconnect by
    themselves after a database restart (the pool checks connections before handing them out)."""
    pool = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "options": f"-c search_path={schema},public"},
        check=AsyncConnectionPool.check_connection,
        open=False,
        name=schema,
    )
    await pool.open(wait=True, timeout=30)
    return cast(Pool, pool)  # the row_factory above makes every row a dict
