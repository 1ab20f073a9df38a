"""PostgreSQL access: an async connection pool per service, pinned to the service's schema."""

from __future__ import annotations

import asyncio
import logging
import select
import time
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)

# Every connection of our pools returns rows as dicts.
Conn = psycopg.AsyncConnection[DictRow]
Pool = AsyncConnectionPool[Conn]


def columns(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Rows as one list per column, the parameters of ``unnest(%b::type[], ...)``: one statement
    for a batch. Bind them in binary (``%b``): in text format psycopg quotes and escapes every
    value of an array (for JSON documents 5-7x the CPU of a statement per row, measured)."""
    return [list(column) for column in zip(*rows, strict=True)]


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


def _has_input(fd: int) -> bool:
    """Whether the socket has something to read (or is closed) right now, without waiting."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


async def check_idle_connection(conn: Conn) -> None:
    """The pool's check before it hands a connection out; raises if the connection is broken.

    A connection the server has ended while it sat in the pool (a database restart,
    ``pg_terminate_backend``, an idle timeout) has the server's last message or the end of the
    stream waiting on its socket, while a healthy idle one has nothing to read: only then (or
    if it is not cleanly idle) is it checked with a query. Querying on every checkout cost a
    round trip per use case (measured: an eighth of an intake's round trips)."""
    if (
        conn.closed
        or conn.pgconn.transaction_status != TransactionStatus.IDLE
        or _has_input(conn.fileno())
    ):
        await AsyncConnectionPool.check_connection(conn)


async def open_pool(url: str, schema: str, max_size: int) -> Pool:
    """A pool whose connections see ``<schema>`` first, return rows as dicts and reconnect by
    themselves after a database restart (the pool checks connections before handing them out)."""
    pool = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs={"row_factory": dict_row, "options": f"-c search_path={schema},public"},
        check=check_idle_connection,
        open=False,
        name=schema,
    )
    await pool.open(wait=True, timeout=30)
    return pool  # a Pool by its check's type; the row_factory above makes every row a dict
