"""The ranking projection's issue summaries against the plain fold, on real PostgreSQL.

A generated campaign (reports, rectifications, verifications, reopenings, voids, transfers,
extensions) is applied in random batches, out of order and with redeliveries, the way the
group-committing consumer applies it. Then, for many cutoffs and input positions, the counts
the database gives (`cutoff_inputs.rates_at`: summaries summed in SQL, the rest folded) must equal
folding every fact up to those positions at that cutoff (R3, R7)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.contracts.streams import ISSUES
from services.ranking import fact_rows, projection
from services.ranking.cutoff_inputs import rates_at
from services.ranking.domain.issues import IssueFact, issues_as_of
from services.ranking.domain.rates import unit_rates
from services.ranking.projection import Delivery, apply_deliveries
from services.runtime.db import Pool, open_pool
from services.runtime.migrations import migrate
from tests.chaos.world import CUTOFF, START, build_world
from tests.conftest import Servers, _fresh_database
from tests.integration.ranking.support import apply_shuffled

MIGRATIONS = Path(projection.__file__).parent / "migrations"


@pytest.fixture
async def pool(servers: Servers) -> AsyncIterator[Pool]:
    url = _fresh_database(servers, "summaries")
    await migrate(url, "ranking", MIGRATIONS)
    opened = await open_pool(url, "ranking", 4)
    try:
        yield opened
    finally:
        await opened.close()


def _fold(facts: list[tuple[int, IssueFact]], position: int, at: object) -> dict[str, object]:
    upto = [fact for seq, fact in facts if seq <= position]
    return dict(unit_rates(issues_as_of(upto, at).values()))  # type: ignore[arg-type]


async def test_counts_from_summaries_equal_the_fold_of_every_fact(pool: Pool) -> None:
    world = build_world("sum", 3000, seed=11)
    deliveries = [Delivery(e, ISSUES.name, seq) for seq, e in enumerate(world.events, 1)]
    await apply_shuffled(pool, deliveries, random.Random(5))

    async with pool.connection() as conn:
        cur = await conn.execute("SELECT * FROM issue_facts")
        facts = [(r["stream_seq"], fact_rows.issue_fact(r)) for r in await cur.fetchall()]
        stored = [e for e in world.events if e.SUBJECT.startswith("issues.")]
        stored = [e for e in stored if projection.FACT_TABLES[type(e)] is not None]
        assert len(facts) == len(stored)  # each once, whatever the redeliveries
        last = len(deliveries)
        assert await projection.input_positions(conn) == {ISSUES.name: last}
        cutoffs = [START + timedelta(days=d) for d in (-1, 0, 3, 9, 17, 30, 45, 60)] + [CUTOFF]
        for position in (last // 5, last // 2, last - 7, last):
            for cutoff in cutoffs:
                ours = await rates_at(conn, {ISSUES.name: position}, cutoff)
                assert dict(ours) == _fold(facts, position, cutoff), (position, cutoff)


async def test_summaries_built_at_once_equal_summaries_kept_up_to_date(pool: Pool) -> None:
    world = build_world("all", 1500, seed=3)
    deliveries = [Delivery(e, ISSUES.name, seq) for seq, e in enumerate(world.events, 1)]
    await apply_shuffled(pool, deliveries, random.Random(9))
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT * FROM issue_summaries ORDER BY issue_id")
        kept = await cur.fetchall()
        await conn.execute("TRUNCATE issue_summaries")
        await conn.execute("UPDATE issue_summaries_backfill SET pending = true")
    await projection.summarise_if_pending(pool)  # what a start after the migration does
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT * FROM issue_summaries ORDER BY issue_id")
        assert await cur.fetchall() == kept
        cur = await conn.execute("SELECT pending FROM issue_summaries_backfill")
        assert await cur.fetchone() == {"pending": False}
    assert len(kept) == world.issues


async def test_facts_that_do_not_fold_are_left_to_the_edition_to_report(pool: Pool) -> None:
    # Two different reports of one issue: R2 broken upstream. The summary has no state, so an
    # edition folds the facts and fails loudly, as it would without summaries.
    world = build_world("bad", 30, seed=1)
    reports = [e for e in world.events if e.SUBJECT == "issues.v1.reported"]
    twin = reports[0].model_copy(update={"event_id": world.new_id(), "deadline": CUTOFF})
    deliveries = [Delivery(e, ISSUES.name, seq) for seq, e in enumerate([*world.events, twin], 1)]
    async with pool.connection() as conn, conn.transaction():
        await apply_deliveries(conn, deliveries)
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) AS n FROM issue_summaries WHERE state IS NULL")
        assert await cur.fetchone() == {"n": 1}
        with pytest.raises(ValueError, match="conflicting issue facts"):
            await rates_at(conn, {ISSUES.name: len(deliveries)}, CUTOFF)


async def test_the_input_position_moves_over_every_contiguous_handled_sequence(pool: Pool) -> None:
    # R7: after each batch (pipelined, as the consumer commits it), the position is the highest
    # sequence up to which every one was handled, whatever the order, gaps and redeliveries,
    # and exactly the handled sequences above it wait in applied_seqs.
    world = build_world("pos", 400, seed=21)
    deliveries = [Delivery(e, ISSUES.name, seq) for seq, e in enumerate(world.events, 1)]
    rng = random.Random(13)
    mixed = deliveries + rng.sample(deliveries, len(deliveries) // 5)
    rng.shuffle(mixed)
    handled: set[int] = set()
    while mixed:
        size = rng.randrange(1, 40)
        batch, mixed = mixed[:size], mixed[size:]
        if rng.random() < 0.2:
            mixed.append(rng.choice(batch))  # delivered again later
        async with pool.connection() as conn, conn.pipeline(), conn.transaction():
            await apply_deliveries(conn, batch)
        handled |= {d.seq for d in batch}
        expected = 0
        while expected + 1 in handled:
            expected += 1
        async with pool.connection() as conn:
            assert await projection.input_positions(conn) == {ISSUES.name: expected}
            cur = await conn.execute("SELECT seq FROM applied_seqs ORDER BY seq")
            assert [r["seq"] for r in await cur.fetchall()] == sorted(
                s for s in handled if s > expected
            )
    assert expected == len(deliveries)


async def test_a_batch_waits_for_the_position_lock_of_a_batch_of_the_same_stream(
    pool: Pool,
) -> None:
    # R7 and the summaries: batches of one stream (replicas too) apply one after another, so a
    # batch folds every fact committed before it. The lock writes nothing, and still blocks.
    async with pool.connection() as first, pool.connection() as second:
        async with first.transaction():
            await projection.lock_position(first, ISSUES.name)  # makes the row
        backend = await (await second.execute("SELECT pg_backend_pid() AS pid")).fetchone()
        assert backend is not None
        await second.commit()
        async with first.transaction():
            await projection.lock_position(first, ISSUES.name)

            async def take() -> None:
                async with second.transaction():
                    await projection.lock_position(second, ISSUES.name)

            waiting = asyncio.create_task(take())
            async with pool.connection() as watcher:
                for _ in range(200):
                    cur = await watcher.execute(
                        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                        (backend["pid"],),
                    )
                    if await cur.fetchone() == {"wait_event_type": "Lock"}:
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the second batch never waited for the position lock")
            assert not waiting.done()
        await waiting  # granted once the first committed
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT stream, watermark FROM input_positions")
        assert await cur.fetchall() == [{"stream": ISSUES.name, "watermark": 0}]  # made once
