"""Running and reading the servers of a backup test: the tools as subprocesses, tables and
stream messages compared whole, durable consumers' backlog."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import nats
import psycopg
from nats.js.errors import NotFoundError
from psycopg import sql

from tests.e2e.stack import ROOT
from tools.backup.jetstream import stream_state

# Compared whole, every column: the editions as published and the money.
TABLES = (
    ("ranking", "editions"),
    ("ranking", "edition_units"),
    ("incentives", "funds"),
    ("incentives", "settled_revisions"),
    ("incentives", "ledger_entries"),
)


@dataclass(frozen=True)
class Target:
    """Servers of their own for the restore: a NATS server and a database, both empty."""

    nats_url: str
    database_url: str


def run(module: str, *args: str, nats_url: str, database_url: str) -> tuple[int, str, float]:
    """``python -m module args`` against these servers: (exit code, output, seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("NATS_URL", "DATABASE_URL"))}
    env |= {"NATS_URL": nats_url, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


async def eventually(check: Any, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.3)


async def table_rows(url: str, schema: str, table: str) -> list[tuple[str, ...]]:
    """Every row of a table, every column as text, sorted: equal means identical."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            sql.SQL("SELECT t::text FROM {}.{} AS t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
        return sorted(tuple(row) for row in await cur.fetchall())


async def snapshot_tables(url: str) -> dict[str, list[tuple[str, ...]]]:
    return {f"{s}.{t}": await table_rows(url, s, t) for s, t in TABLES}


async def money(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The fund, the settlements and the ledger without row ids and booking times (a rebuild
    books again: it keeps what was booked, not necessarily when)."""
    queries = {
        "funds": "SELECT year, fund, planned_editions, allocated, version FROM incentives.funds",
        "settlements": "SELECT year, edition, revision, outcome, cutoff, pool, split,"
        " rule_version, source_event_id, stream_seq FROM incentives.settled_revisions",
        "ledger": "SELECT year, edition, revision, unit_id, fen, kind, rule_version,"
        " source_event_id FROM incentives.ledger_entries",
    }
    async with await psycopg.AsyncConnection.connect(url) as conn:
        found = {}
        for name, query in queries.items():
            cur = await conn.execute(query)
            found[name] = sorted(await cur.fetchall())
        return found


async def messages(url: str, stream: str, first: int, last: int) -> list[tuple[Any, ...]]:
    """(seq, subject, headers, data, time) of every sequence from ``first`` to ``last``; a
    deleted sequence reads as (seq, None)."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        found: list[tuple[Any, ...]] = []
        for seq in range(max(first, 1), last + 1):
            try:
                msg = await js.get_msg(stream, seq)
            except NotFoundError:
                found.append((seq, None))
                continue
            found.append((msg.seq, msg.subject, msg.headers, msg.data or b"", msg.time))
        return found
    finally:
        await nc.drain()


async def durables(url: str) -> dict[str, tuple[int, int]]:
    """Every durable consumer of every stream: (pending, ack pending)."""
    nc = await nats.connect(url)
    try:
        jsm = nc.jetstream()
        found = {}
        for info in await jsm.streams_info():
            stream = str(info.config.name)
            for consumer in await jsm.consumers_info(stream):
                if not consumer.config.durable_name:
                    continue
                key = f"{stream}/{consumer.name}"
                found[key] = (consumer.num_pending or 0, consumer.num_ack_pending or 0)
        return found
    finally:
        await nc.drain()


async def backup_state(url: str, stream: str) -> dict[str, Any]:
    nc = await nats.connect(url)
    try:
        state = await stream_state(nc, stream)
    finally:
        await nc.drain()
    assert state is not None, f"{stream} was not restored"
    return state
