"""What the ranking benchmarks share: their own nats-server, fresh databases, the service's
settings, loading the ISSUES stream and the raw nats-py baselines that read it back."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import nats.js
import psycopg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from psycopg import sql

from services.ranking.settings import RankingSettings
from services.runtime import embedded


def ranking_settings(nats_url: str, database_url: str) -> RankingSettings:
    return RankingSettings(
        nats_url=nats_url,
        database_url=database_url,
        auth_mode="dev",
        log_level="WARNING",
        schedule_enabled=False,
    )


async def publish_events(
    js: nats.js.JetStreamContext, events: Iterator[tuple[str, bytes, str]]
) -> int:
    """Publish everything, 500 in flight; returns the last stream sequence."""
    last, chunk = 0, []
    for event in events:
        chunk.append(event)
        if len(chunk) == 500:
            last = max(last, await _flush(js, chunk))
            chunk = []
    if chunk:
        last = max(last, await _flush(js, chunk))
    return last


async def _flush(js: nats.js.JetStreamContext, chunk: list[tuple[str, bytes, str]]) -> int:
    acks = await asyncio.gather(
        *(js.publish(s, d, headers={"Nats-Msg-Id": i}, timeout=30) for s, d, i in chunk)
    )
    return max(a.seq for a in acks)


async def raw_fetch(js: nats.js.JetStreamContext, count: int, *, replay: bool = False) -> float:
    """The raw baseline over the whole ISSUES stream: a bare pull subscription, fetch(100) + ack
    each (the consumer's baseline), or, for the rebuild, fetch(2000) without acks (what the
    replay's ephemeral consumer does)."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.NONE if replay else AckPolicy.EXPLICIT,
    )
    batch = 2000 if replay else 100
    sub = await js.pull_subscribe(">", stream="ISSUES", config=config)
    started = time.perf_counter()
    seen = 0
    while seen < count:
        for msg in await sub.fetch(batch, timeout=5):
            if not replay:
                await msg.ack()
            seen += 1
    elapsed = time.perf_counter() - started
    await sub.unsubscribe()
    return elapsed


async def fresh_database(database_url: str, name: str) -> str:
    """An empty database ``name`` on the server of ``database_url``; its URL."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url.rsplit("/", 1)[0] + f"/{name}"


class OwnNats:
    """A nats-server of ranking's benchmarks alone: other benchmarks publish on the shared one
    (the intake's reports, fake editions), which ranking would consume and replay too. Kept
    for the rebuild benchmark, stopped at exit."""

    url = ""

    @classmethod
    def start(cls) -> str:
        if not cls.url:
            root = Path(tempfile.mkdtemp(prefix="bench-ranking-"))
            port = embedded.free_port()
            server = embedded.start_nats(port, root / "nats", root / "nats.log")
            atexit.register(embedded.stop, server)
            atexit.register(shutil.rmtree, root, True)
            cls.url = f"nats://127.0.0.1:{port}"
        return cls.url
