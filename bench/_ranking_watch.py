"""Seeing when ranking's projection reflects an issue's fact, by polling its schema, and waiting
until it and every consumer of ``ISSUES`` have caught up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import nats
import psycopg

POLL_SECONDS = 0.005  # the latency's resolution; polling costs CPU the services need
# ranking's projection, exactly as /v1/rates reads it: facts at or below the input position.
REFLECTED_SQL = (
    "SELECT p.watermark, f.issue_id FROM ranking.input_positions p"
    " LEFT JOIN ranking.issue_facts f ON f.kind = %s"
    " AND f.stream_seq > %s AND f.stream_seq <= p.watermark WHERE p.stream = 'ISSUES'"
)


async def watch(
    db: psycopg.AsyncConnection[Any],
    kind: str,
    seen: dict[str, float],
    stop: asyncio.Event,
    every: float = POLL_SECONDS,
) -> None:
    """Record when each issue's ``kind`` fact becomes part of ranking's projection (stopped by
    ``stop``, not cancelled: a query cut short would leave the connection unusable)."""
    floor = 0
    while not stop.is_set():
        cur = await db.execute(REFLECTED_SQL, (kind, floor))
        rows = await cur.fetchall()
        now = time.perf_counter()
        for watermark, issue in rows:
            floor = max(floor, watermark)
            if issue is not None:
                seen.setdefault(str(issue), now)
        await asyncio.sleep(every)


async def until(
    done: Callable[[], bool], within: float, what: str, watcher: asyncio.Task[None]
) -> None:
    """Wait for ``done``; a watcher that failed ends the wait (its error is raised after)."""
    deadline = time.monotonic() + within
    while not done() and not watcher.done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done after {within:.0f} s")
        await asyncio.sleep(0.05)


async def caught_up(nats_url: str, db: psycopg.AsyncConnection[Any], count: int) -> None:
    """Every report is in ranking's projection and no consumer of ISSUES has work left."""
    seen: dict[str, float] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(db, "reported", seen, stop, 0.05))
    try:
        await until(lambda: len(seen) >= count, 120 + count / 50, "ranking catching up", watcher)
    finally:
        stop.set()
        await watcher
    nc = await nats.connect(nats_url)
    deadline = time.monotonic() + 120
    try:
        while True:
            infos = await nc.jetstream().consumers_info("ISSUES")
            if all(c.num_pending == 0 and c.num_ack_pending == 0 for c in infos):
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the consumers of ISSUES still have work after 120 s")
            await asyncio.sleep(0.2)
    finally:
        await nc.close()
