"""Each unit's tallies (migration 0006: kept by triggers on the issue summaries, read by every
edition and rate report, `cutoff_inputs.rates_at`) against summing the summaries afresh, on real
PostgreSQL: after batches applied out of order with redeliveries (transfers move issues between
units, voids take them out, reopenings bring them back, R2-R3), after the summaries are built
again at once, and for a projection that held summaries before the tallies existed."""

from __future__ import annotations

import random
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.contracts.streams import ISSUES
from services.ranking import projection
from services.ranking.projection import Delivery
from services.runtime.db import Conn, Pool, open_pool
from services.runtime.migrations import migrate
from tests.chaos.world import build_world
from tests.conftest import Servers, _fresh_database
from tests.integration.ranking.support import apply_shuffled

MIGRATIONS = Path(projection.__file__).parent / "migrations"
# A unit whose issues all moved away or were voided keeps a row of zeros.
TALLIES = (
    "SELECT * FROM unit_tallies WHERE (reported, rectified, rework, on_time, open)"
    " <> (0, 0, 0, 0, 0) ORDER BY unit_id"
)
# What the tallies stand for, summed from the summaries themselves (R3.1-R3.4).
SUMMED = """
SELECT unit_id, count(*) AS reported,
       count(*) FILTER (WHERE state IN ('rectified', 'verified')) AS rectified,
       coalesce(sum(rework_count), 0) AS rework,
       count(*) FILTER (WHERE on_time) AS on_time,
       count(*) FILTER (WHERE state IN ('open', 'reopened')) AS open
FROM issue_summaries WHERE state IS NOT NULL AND state <> 'void'
GROUP BY unit_id ORDER BY unit_id
"""


async def _pool(url: str, migrations: Path) -> Pool:
    await migrate(url, "ranking", migrations)
    return await open_pool(url, "ranking", 2)


@pytest.fixture
async def pool(servers: Servers) -> AsyncIterator[Pool]:
    opened = await _pool(_fresh_database(servers, "tallies"), MIGRATIONS)
    try:
        yield opened
    finally:
        await opened.close()


def _deliveries(events: int, seed: int) -> list[Delivery]:
    world = build_world("tal", events, seed=seed)
    return [Delivery(e, ISSUES.name, seq) for seq, e in enumerate(world.events, 1)]


async def _tallies_and_sums(conn: Conn) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    tallies = await (await conn.execute(TALLIES)).fetchall()
    sums = await (await conn.execute(SUMMED)).fetchall()
    return tallies, sums


async def test_tallies_equal_the_summaries_summed_after_every_batch(pool: Pool) -> None:
    deliveries = _deliveries(2500, seed=21)
    rng = random.Random(8)
    half = len(deliveries) // 2
    await apply_shuffled(pool, deliveries[:half], rng, 120)
    async with pool.connection() as conn:
        tallies, sums = await _tallies_and_sums(conn)
    assert tallies == sums and sums  # halfway: issues still open, some transferred or void
    await apply_shuffled(pool, deliveries, rng, 120)  # the rest, and the first half redelivered
    async with pool.connection() as conn:
        tallies, sums = await _tallies_and_sums(conn)
        assert tallies == sums
        assert any(row["open"] for row in sums) and any(row["rework"] for row in sums)


async def test_tallies_follow_the_summaries_when_they_are_built_again(pool: Pool) -> None:
    await apply_shuffled(pool, _deliveries(1200, seed=4), random.Random(2))
    async with pool.connection() as conn:
        before, _ = await _tallies_and_sums(conn)
        await conn.execute("TRUNCATE issue_summaries")  # what a backfill starts from
        assert await (await conn.execute("SELECT count(*) AS n FROM unit_tallies")).fetchone() == {
            "n": 0
        }
    await projection.summarise_all(pool)
    async with pool.connection() as conn:
        after, sums = await _tallies_and_sums(conn)
    assert after == sums == before


async def test_a_projection_with_summaries_gets_their_tallies_from_the_migration(
    servers: Servers, tmp_path: Path
) -> None:
    earlier = tmp_path / "migrations"
    earlier.mkdir()
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < "0006":
            shutil.copy(path, earlier / path.name)
    url = _fresh_database(servers, "tallies")
    pool = await _pool(url, earlier)
    try:
        await apply_shuffled(pool, _deliveries(800, seed=6), random.Random(3))
        assert await migrate(url, "ranking", MIGRATIONS) == [6, 7]
        async with pool.connection() as conn:
            tallies, sums = await _tallies_and_sums(conn)
        assert tallies == sums and sums
    finally:
        await pool.close()
