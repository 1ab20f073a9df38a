"""Ranking benchmarks (issue 4), each against a raw baseline measured in the same run (the
consumer's own, ``ranking_consume_issues``, is in ranking_consume.py).

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

Sizes: ``CHUANGWEN_BENCH_ISSUES`` (default 1,000,000) and ``CHUANGWEN_BENCH_UNITS`` (10,000)
for the edition; ``CHUANGWEN_BENCH_REBUILD_EVENTS`` (1,000,000) for the rebuild.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
import psycopg
from fastapi import FastAPI

from bench._edition_seed import CUTOFF, seed_projection
from bench._events import synthetic_events
from bench._ranking_servers import (
    OwnNats,
    fresh_database,
    publish_events,
    ranking_settings,
    raw_fetch,
)
from bench.ranking_consume import consumed, ranking_consume_issues
from bench.result import Bench, Result, rates
from services.ranking.app import build
from services.ranking.projection import summarise_all
from services.ranking.rebuild import rebuild
from services.ranking.rule_book import load_rule_book
from services.runtime import embedded
from services.runtime.db import open_pool
from services.runtime.service import ServiceRuntime

EDITION_UNITS = int(os.environ.get("CHUANGWEN_BENCH_UNITS", "10000"))
EDITION_ISSUES = int(os.environ.get("CHUANGWEN_BENCH_ISSUES", "1000000"))
REBUILD_EVENTS = int(os.environ.get("CHUANGWEN_BENCH_REBUILD_EVENTS", "1000000"))


async def ranking_publish_edition(nats_url: str, database_url: str, count: int) -> Result:
    url = await fresh_database(database_url, "bench_edition")
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
            app, runtime = build(ranking_settings(f"nats://127.0.0.1:{port}", url))
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
    if "database" not in consumed:
        await ranking_consume_issues(nats_url, database_url, count)
    nats_url, database_url = OwnNats.start(), consumed["database"]
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        have = (await js.stream_info("ISSUES")).state.messages
        if have < REBUILD_EVENTS:
            await publish_events(js, synthetic_events(REBUILD_EVENTS - have, "r", seed=2))
        total = (await js.stream_info("ISSUES")).state.messages
        raw = await raw_fetch(js, total, replay=True)
    finally:
        await nc.drain()
    settings = ranking_settings(nats_url, database_url)
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


BENCHMARKS: tuple[Bench, ...] = (ranking_publish_edition, ranking_rebuild)
