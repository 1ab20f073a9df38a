"""Ranking benchmarks (issue 4), each against a raw baseline measured in the same run.

- ``ranking_consume_issues``: the ranking service consumes issue events (reports, and the
  rectification of most of them) through its pull consumer, failure policy, group commit (one
  transaction per fetched batch: facts, which record the events applied, issue summaries,
  input positions; the next batch fetched and decoded meanwhile) vs a bare nats-py pull
  subscription fetching 100 at a time and acking. Target: ours at least 50% of the raw rate.
- ``ranking_publish_edition``: an edition (the service's ``publish``: wait for the projection,
  count, rank, store, stage) over 10,000 units and 1,000,000 issues, 0.1% of them changed after
  the first cutoff; the median of three editions a week apart (the machine is shared). The
  projection is written with COPY, as the consumer would have left it, its issue summaries
  (and the units' tallies) are built by the service's own backfill (timed, reported), and it
  is vacuumed and checkpointed as it would have been by the time of an edition. Target: under
  1 s; the raw baseline is one bare ``GROUP BY unit_id`` over the issue facts.
- ``ranking_rebuild``: ``python -m services.ranking.rebuild`` over 1,000,000 events on the
  ISSUES stream (drop, replay, summaries, recompute and compare the stored editions) vs the
  bare fetch of the same messages.

Sizes: ``--messages`` events for the consumer (at least 20,000); ``CHUANGWEN_BENCH_ISSUES``
(default 1,000,000) and ``CHUANGWEN_BENCH_UNITS`` (10,000) for the edition;
``CHUANGWEN_BENCH_REBUILD_EVENTS`` (1,000,000) for the rebuild.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import psycopg
from fastapi import FastAPI
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from psycopg import sql

from bench._edition_seed import CUTOFF, seed_projection
from bench._events import synthetic_events
from bench.result import Bench, Result, rates
from services.ranking.app import build
from services.ranking.projection import summarise_all
from services.ranking.rebuild import rebuild
from services.ranking.rule_book import load_rule_book
from services.ranking.settings import RankingSettings
from services.runtime import embedded
from services.runtime.db import open_pool
from services.runtime.service import ServiceRuntime

EDITION_UNITS = int(os.environ.get("CHUANGWEN_BENCH_UNITS", "10000"))
EDITION_ISSUES = int(os.environ.get("CHUANGWEN_BENCH_ISSUES", "1000000"))
REBUILD_EVENTS = int(os.environ.get("CHUANGWEN_BENCH_REBUILD_EVENTS", "1000000"))
MIN_CONSUMED = 20_000
_state: dict[str, float] = {}
_urls: dict[str, str] = {}


def _settings(nats_url: str, database_url: str) -> RankingSettings:
    return RankingSettings(
        nats_url=nats_url,
        database_url=database_url,
        auth_mode="dev",
        log_level="WARNING",
        schedule_enabled=False,
    )


async def _publish(js: nats.js.JetStreamContext, events: Iterator[tuple[str, bytes, str]]) -> int:
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


async def _raw_fetch(js: nats.js.JetStreamContext, count: int, *, replay: bool = False) -> float:
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


class _OwnNats:
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


async def ranking_consume_issues(nats_url: str, database_url: str, count: int) -> Result:
    count = max(count, MIN_CONSUMED)
    nats_url = _OwnNats.start()
    database_url = await _fresh(database_url, "bench_ranking")
    _urls["database"] = database_url
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    app, runtime = build(_settings(nats_url, database_url))
    await runtime.start()  # provisions the streams; the consumer starts on an empty stream
    await runtime.stop()
    last = await _publish(js, synthetic_events(count, "c", seed=1))
    raw = await _raw_fetch(js, count)
    _state["consumed_events"] = count

    app, runtime = build(_settings(nats_url, database_url))
    await runtime.start()  # the consumer starts last: timed from here
    started = time.perf_counter()
    try:
        while True:
            async with runtime.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT watermark FROM input_positions WHERE stream = 'ISSUES'"
                )
                row = await cur.fetchone()
            if row is not None and row["watermark"] >= last:
                break
            await asyncio.sleep(0.02)
        ours = time.perf_counter() - started
        # An edition on RANKING for the rebuild benchmark to recompute and compare.
        await app.state.editions.publish(CUTOFF)
        while True:
            async with runtime.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"
                )
                row = await cur.fetchone()
            if row is not None and row["n"] == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
        await nc.drain()
    headline = rates(count, ours, raw, "events/s")
    share = headline.ours / (headline.raw or 1)
    return Result(
        "ranking_consume_issues",
        ours,
        raw,
        target=2.0,
        notes=(f"{count} events; {headline.ours:.0f}/s ours, {headline.raw:.0f}/s raw",),
        what=f"{count} issue events (reports + 90% rectified) into ranking's projection"
        " vs bare fetch(100) + ack",
        figures={
            "events": count,
            "ours_events_per_s": round(headline.ours),
            "raw_events_per_s": round(headline.raw or 0),
            "share_of_raw": round(share, 3),
            "batch_size": _settings(nats_url, database_url).batch_size,
        },
        headline=headline,
        goal="≥ 50% of the raw rate",
    )


async def _fresh(database_url: str, name: str) -> str:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url.rsplit("/", 1)[0] + f"/{name}"


async def ranking_publish_edition(nats_url: str, database_url: str, count: int) -> Result:
    url = await _fresh(database_url, "bench_edition")
    seeded = time.perf_counter()
    await seed_projection(url, EDITION_UNITS, EDITION_ISSUES, seq_base=10_000_000)
    seeded = time.perf_counter() - seeded
    pool = await open_pool(url, "ranking", 2)
    try:
        started = time.perf_counter()
        summaries = await summarise_all(pool)
        summarised = time.perf_counter() - started
        async with pool.connection() as conn:
            await conn.execute("UPDATE issue_summaries_backfill SET pending = false")
        # A consumer's projection is vacuumed by autovacuum as it grows; this one, written in two
        # minutes by COPY and the backfill, is vacuumed here, or both timings would race
        # autovacuum's first pass over millions of fresh rows (and the hint bits of each).
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(
                "VACUUM (ANALYZE) ranking.issue_facts, ranking.unit_facts,"
                " ranking.issue_summaries, ranking.unit_tallies"
            )
            await conn.execute("CHECKPOINT")  # the seeding's writes, not the edition's
        async with pool.connection() as conn:
            started = time.perf_counter()
            await conn.execute(
                "SELECT unit_id, count(*) FROM issue_facts WHERE kind = 'reported' GROUP BY unit_id"
            )
            raw = time.perf_counter() - started
    finally:
        await pool.close()

    # The service publishes on a NATS server of its own: this edition must not reach the
    # RANKING stream the rebuild benchmark recomputes.
    with tempfile.TemporaryDirectory(prefix="bench-edition-") as tmp:
        port = embedded.free_port()
        server = embedded.start_nats(port, Path(tmp) / "nats", Path(tmp) / "nats.log")
        try:
            app, runtime = build(_settings(f"nats://127.0.0.1:{port}", url))
            times, preview, edition = await _publish_editions(app, runtime)
        finally:
            embedded.stop(server)
    ours = statistics.median(times)  # the machine is shared: one slow run is its neighbours'
    ranked = sum(len(c["rows"]) for c in edition["categories"].values())
    return Result(
        "ranking_publish_edition",
        ours,
        raw,
        target=float("inf"),
        met=ours < 1.0,
        notes=(
            f"{ranked} ranked units, {EDITION_ISSUES} issues: publish {ours:.3f} s (median of"
            f" {', '.join(f'{t:.3f}' for t in times)} s: {PUBLICATIONS} editions a week apart),"
            f" preview {preview:.3f} s; bare GROUP BY {raw:.3f} s",
            f"projection seeded by COPY in {seeded:.0f} s; summaries of {summaries} issues"
            f" built by the service's backfill in {summarised:.0f} s",
        ),
        what=f"publish an edition over {EDITION_UNITS} units / {EDITION_ISSUES} issues"
        " (0.1% changed after the cutoff) vs one bare GROUP BY over the issue facts",
        figures={
            "units": EDITION_UNITS,
            "issues": EDITION_ISSUES,
            "ranked_units": ranked,
            "publish_seconds": round(ours, 3),
            "publish_seconds_each": ", ".join(f"{t:.3f}" for t in times),
            "preview_seconds": round(preview, 3),
            "raw_group_by_seconds": round(raw, 3),
            "summaries_backfill_seconds": round(summarised, 1),
        },
        goal="publish < 1 s",
    )


PUBLICATIONS = 3


async def _publish_editions(
    app: FastAPI, runtime: ServiceRuntime
) -> tuple[list[float], float, Any]:
    """`PUBLICATIONS` editions, a week apart from `CUTOFF` (each a new edition: its cutoff is
    part of its content), each timed; then one preview. The first edition is returned."""
    await runtime.start()
    try:
        editions = app.state.editions
        times, first = [], None
        for week in range(PUBLICATIONS):
            started = time.perf_counter()
            edition = await editions.publish(CUTOFF + timedelta(weeks=week))
            times.append(time.perf_counter() - started)
            assert edition["created"], edition
            first = first or edition
        started = time.perf_counter()
        await editions.preview(CUTOFF)
        return times, time.perf_counter() - started, first
    finally:
        await runtime.stop()


async def ranking_rebuild(nats_url: str, database_url: str, count: int) -> Result:
    """Top the ISSUES stream up to REBUILD_EVENTS, then rebuild ranking from it (on the servers
    of ``ranking_consume_issues``, which published an edition to recompute)."""
    if "database" not in _urls:
        await ranking_consume_issues(nats_url, database_url, count)
    nats_url, database_url = _OwnNats.start(), _urls["database"]
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        have = (await js.stream_info("ISSUES")).state.messages
        if have < REBUILD_EVENTS:
            await _publish(js, synthetic_events(REBUILD_EVENTS - have, "r", seed=2))
        total = (await js.stream_info("ISSUES")).state.messages
        raw = await _raw_fetch(js, total, replay=True)
    finally:
        await nc.drain()
    settings = _settings(nats_url, database_url)
    started = time.perf_counter()
    report = await rebuild(settings, load_rule_book(settings.rules_file))
    ours = time.perf_counter() - started
    replayed = sum(report.replayed.values())
    return Result(
        "ranking_rebuild",
        ours,
        raw,
        target=100.0,
        notes=(
            f"replayed {replayed} messages, {report.editions} editions recomputed,"
            f" {len(report.differences)} differences",
        ),
        what=f"rebuild from {total} ISSUES events (drop, replay, summaries, recompute and"
        " compare every stored edition) vs bare fetch(2000) of the same stream, no acks",
        figures={
            "events": total,
            "editions_compared": report.editions,
            "differences": len(report.differences),
            "ours_seconds": round(ours, 1),
            "raw_seconds": round(raw, 1),
            "ours_events_per_s": round(total / ours),
        },
        headline=rates(total, ours, raw, "events/s"),
        goal="no target in the issue: reported (ceiling 100× raw)",
        met=not report.differences and ours / raw <= 100.0,
    )


BENCHMARKS: tuple[Bench, ...] = (ranking_consume_issues, ranking_publish_edition, ranking_rebuild)
