"""Seeing when ranking's projection reflects an issue's fact, and waiting until it and every
consumer of ``ISSUES`` have caught up.

Ranking's commits are heard, not polled: the benchmark adds a trigger to ranking's input
positions (in the benchmark's own database) that sends the new watermark as a notification, and
PostgreSQL delivers it when the transaction that moved the watermark commits, i.e. when the
facts below it became what ``GET /v1/rates`` reads. Polling every 5 ms, as before, cost 0.1 of a
core in this process and 0.03 in PostgreSQL (measured on an idle projection), taken from the two
cores the services share; a notification per ranking transaction costs next to nothing, and the
time is read when the commit is heard, not up to 5 ms later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import nats
import psycopg

CHANNEL = "bench_ranking_position"
NOTICES_SQL = f"""
CREATE OR REPLACE FUNCTION ranking.bench_position_notice() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream = 'ISSUES' THEN
        PERFORM pg_notify('{CHANNEL}', NEW.watermark::text);
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS bench_position_notice ON ranking.input_positions;
CREATE TRIGGER bench_position_notice AFTER INSERT OR UPDATE ON ranking.input_positions
    FOR EACH ROW EXECUTE FUNCTION ranking.bench_position_notice();
"""
POSITION_SQL = "SELECT watermark FROM ranking.input_positions WHERE stream = 'ISSUES'"
# ranking's projection, exactly as /v1/rates reads it: facts at or below the input position.
FACTS_SQL = (
    "SELECT issue_id FROM ranking.issue_facts"
    " WHERE kind = %s AND stream_seq > %s AND stream_seq <= %s"
)


async def install_notices(db: psycopg.AsyncConnection[Any]) -> None:
    """Make ranking's commits heard (once its schema is migrated)."""
    await db.execute(NOTICES_SQL)


async def watch(
    db: psycopg.AsyncConnection[Any],
    kind: str,
    seen: dict[str, float],
    stop: asyncio.Event,
    every: float = 0.1,
) -> None:
    """Record when each issue's ``kind`` fact becomes part of ranking's projection: the time its
    commit is heard (`install_notices`; ``db`` in autocommit). Stopped by ``stop``, looked at
    every ``every`` s, not cancelled: a query cut short would leave the connection unusable."""
    await db.execute(f"LISTEN {CHANNEL}")
    try:
        row = await (await db.execute(POSITION_SQL)).fetchone()
        heard = [(int(row[0]) if row else 0, time.perf_counter())]
        floor = 0
        while True:
            for watermark, at in heard:
                if watermark > floor:
                    cur = await db.execute(FACTS_SQL, (kind, floor, watermark))
                    for (issue,) in await cur.fetchall():
                        seen.setdefault(str(issue), at)
                    floor = watermark
            if stop.is_set():
                return
            heard = [
                (int(notice.payload), time.perf_counter())
                async for notice in db.notifies(timeout=every)
            ]
    finally:
        await db.execute(f"UNLISTEN {CHANNEL}")


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
    watcher = asyncio.create_task(watch(db, "reported", seen, stop))
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
