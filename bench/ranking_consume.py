"""``ranking_consume_issues`` (issue 7's pipeline target): the ranking service consumes issue
events (reports, and the rectification of most of them) through its pull consumer, failure
policy and group commit (each transaction takes the fetched batches waiting: facts, which record
the events applied, issue summaries, input positions; the next batch fetched and decoded
meanwhile) vs a bare nats-py pull subscription fetching 100 at a time and acking each. Target:
ours at least 50% of the raw rate.

The machine is shared, and its speed drifts by a factor of two within minutes (the raw rate
alone was 7,000-37,000 events/s on different runs of one day). So the two are measured in
`ROUNDS` pairs, raw then ours, each pair a minute or less apart, and the pair with the median
ratio is the headline; every pair is in the notes. Ours is the service as it is served (its
app's lifespan: the runtime, the rule-version check, the settled heap) on a fresh database,
its durable consumer reading the stream from the start; it is timed from the end of its
start-up to the last event applied, over the events delivered to it in that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import nats
import nats.js.errors

from bench._edition_seed import CUTOFF
from bench._events import synthetic_events
from bench._ranking_servers import (
    OwnNats,
    fresh_database,
    publish_events,
    ranking_settings,
    raw_fetch,
)
from bench.result import Bench, Result, rates
from services.ranking.app import build
from services.runtime.db import Pool
from services.runtime.heap import settle_heap

MIN_CONSUMED = 20_000
ROUNDS = 3
DURABLE = "ranking-issues"
# The database the last round leaves behind, with an edition published from it: the rebuild
# benchmark (ranking_edition.py) recomputes that edition.
consumed: dict[str, str] = {}


async def ranking_consume_issues(nats_url: str, database_url: str, count: int) -> Result:
    count = max(count, MIN_CONSUMED)
    nats_url = OwnNats.start()
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        _, runtime = build(ranking_settings(nats_url, await fresh_database(database_url, "r")))
        await runtime.start()  # provisions the streams
        await runtime.stop()
        last = await publish_events(js, synthetic_events(count, "c", seed=1))
        settle_heap()  # the bench process's own heap, as a served service settles its own
        rounds: list[tuple[float, float]] = []  # (raw, ours) events/s
        for _ in range(ROUNDS):
            raw = await raw_fetch(js, count)
            with_edition = len(rounds) == ROUNDS - 1
            applied, ours = await _ours(js, database_url, nats_url, last, with_edition)
            rounds.append((count / raw, applied / ours))
    finally:
        await nc.drain()
    raw_rate, ours_rate = sorted(rounds, key=lambda r: r[1] / r[0])[len(rounds) // 2]
    shares = [o / r for r, o in rounds]
    headline = rates(count, count / ours_rate, count / raw_rate, "events/s")
    return Result(
        "ranking_consume_issues",
        count / ours_rate,
        count / raw_rate,
        target=2.0,
        notes=(
            f"{count} events, {ROUNDS} rounds of raw then ours (the median round is the row):",
            *(
                f"round {n}: raw {r:,.0f}/s, ours {o:,.0f}/s = {o / r:.0%}"
                for n, (r, o) in enumerate(rounds, 1)
            ),
        ),
        what=f"{count} issue events (reports + 90% rectified) into ranking's projection"
        f" vs bare fetch(100) + ack; median of {ROUNDS} paired rounds",
        figures={
            "events": count,
            "rounds": ROUNDS,
            "ours_events_per_s": round(ours_rate),
            "raw_events_per_s": round(raw_rate),
            "share_of_raw": round(ours_rate / raw_rate, 3),
            "share_of_raw_each": ", ".join(f"{s:.2f}" for s in shares),
            "batch_size": ranking_settings(nats_url, database_url).batch_size,
        },
        headline=headline,
        goal="≥ 50% of the raw rate",
    )


async def _ours(
    js: nats.js.JetStreamContext, database_url: str, nats_url: str, last: int, edition: bool
) -> tuple[int, float]:
    """One round of ours: (events applied while timed, seconds)."""
    url = await fresh_database(database_url, "bench_ranking")
    with contextlib.suppress(nats.js.errors.NotFoundError):
        await js.delete_consumer("ISSUES", DURABLE)  # read the stream from the start again
    app, runtime = build(ranking_settings(nats_url, url))
    async with app.router.lifespan_context(app):
        started = time.perf_counter()
        # What was delivered before the clock started is not counted, though some of it is
        # applied after (conservative: the start-up's last steps overlap the first fetch).
        first = (await js.consumer_info("ISSUES", DURABLE)).delivered.stream_seq or 0
        await _until_applied(runtime.pool, last)
        elapsed = time.perf_counter() - started
        if edition:
            await app.state.editions.publish(CUTOFF)
            await _until_published(runtime.pool)
            consumed["database"] = url
    return last - first, elapsed


async def _watermark(pool: Pool) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT watermark FROM input_positions WHERE stream = 'ISSUES'")
        row = await cur.fetchone()
    return 0 if row is None else int(row["watermark"])


async def _until_applied(pool: Pool, last: int) -> None:
    while True:
        if await _watermark(pool) >= last:
            return
        await asyncio.sleep(0.02)


async def _until_published(pool: Pool) -> None:
    while True:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            row = await cur.fetchone()
        if row is not None and row["n"] == 0:
            return
        await asyncio.sleep(0.05)


BENCHMARKS: tuple[Bench, ...] = (ranking_consume_issues,)
