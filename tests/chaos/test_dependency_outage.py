"""Issue 7.6: PostgreSQL stops for ~30 s while issue events keep coming, and the units' webhook
endpoint fails: the consumers nak with backoff and never crash, and after recovery the backlog
clears by itself; rates and the edition equal the expected ones and every supervision notice
reaches the receiver, none twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import WEBHOOK_SECRET

from .checks import assert_ranking_matches, ranking_env, watermark
from .conftest import FULL
from .harness import (
    FlakyReceiver,
    OwnNats,
    OwnPostgres,
    ServiceProcess,
    connect,
    eventually,
    publish_events,
)
from .world import build_world

pytestmark = pytest.mark.chaos

# Longer than the pools' 30 s wait for a connection: handlers waiting on the pool then fail
# with PoolTimeout and nak, instead of merely waiting the outage out.
OUTAGE_SECONDS = 40 if FULL else 33
# Short backoffs so that the backlog clears within the test (production: 1, 5, 30, 120 s).
FAST_RETRIES = {"NAK_DELAYS_SECONDS": "[0.5, 1, 2]"}


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    """A PostgreSQL of the test's own: it is stopped mid-test, the session's never is."""
    server = OwnPostgres(tmp_path / "own-pg")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_database_outage_and_a_failing_webhook_lose_and_double_nothing(
    own_nats: OwnNats,
    own_postgres: OwnPostgres,
    receiver: FlakyReceiver,
    fleet: list[ServiceProcess],
    tmp_path: Path,
    scale: int,
) -> None:
    world = build_world("do", 1500 * scale)
    total = len(world.events)
    database = own_postgres.url
    logs = tmp_path / "logs"
    fast = {f"RANKING_{k}": v for k, v in FAST_RETRIES.items()}
    ranking = ServiceProcess("ranking", ranking_env(own_nats.url, database, **fast), logs)
    notify_env = {
        **ranking_env(own_nats.url, database),
        "NOTIFY_WEBHOOK_URL": receiver.url,
        "NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "NOTIFY_ALLOW_PRIVATE_TARGETS": "true",
        "NOTIFY_DELIVERY_ATTEMPTS": "50",
        "NOTIFY_BACKOFF_BASE_SECONDS": "0.5",
        "NOTIFY_BACKOFF_MAX_SECONDS": "3",
        "NOTIFY_DELIVERY_POLL_SECONDS": "0.5",
        **{f"NOTIFY_{k}": v for k, v in FAST_RETRIES.items()},
    }
    notify = ServiceProcess("notify", notify_env, logs)
    fleet.extend([ranking, notify])
    await asyncio.to_thread(ranking.start)
    await asyncio.to_thread(notify.start)
    pids = {ranking.proc.pid if ranking.proc else 0, notify.proc.pid if notify.proc else 0}
    receiver.failing = True

    nc = await connect(own_nats.url)
    try:
        js = nc.jetstream()
        third = total // 3
        await publish_events(js, world.events[:third])
        own_postgres.stop()
        down_since = time.monotonic()
        await publish_events(js, world.events[third:])  # the bus takes them; nobody can apply
        while time.monotonic() - down_since < OUTAGE_SECONDS:
            assert ranking.alive() and notify.alive(), "a service crashed during the outage"
            await asyncio.sleep(1)
        await asyncio.to_thread(own_postgres.start)

        async def refused() -> bool:
            return any(status == 503 for status, _, _ in receiver.attempts)

        # The webhook endpoint recovers a little later: once it has refused an attempt (a
        # fixed 3 s raced notify's reconnection, which sometimes tried nothing until after).
        await eventually(refused, 120, "notify tried the failing webhook")
        receiver.failing = False
    finally:
        await nc.drain()

    async def caught_up() -> bool:
        try:
            return await watermark(database) == total
        except Exception:
            return False

    await eventually(caught_up, 180, "ranking cleared its backlog")
    expected_notices = {f"issue:{issue_id}" for issue_id in world.reported}

    notices = receiver.supervision_notices

    async def all_notified() -> bool:
        return set(notices()) >= expected_notices

    await eventually(all_notified, 180, "every supervision notice was delivered")

    # No crash loop: the very processes started before the outage are still the ones running.
    assert ranking.exits == [] and notify.exits == []
    assert {ranking.proc.pid if ranking.proc else 0, notify.proc.pid if notify.proc else 0} == pids
    # They nak'ed with backoff while the database was away; the receiver refused some attempts.
    assert "dependency unavailable; will retry" in ranking.log_file.read_text(errors="replace")
    assert any(status == 503 for status, _, _ in receiver.attempts)
    await assert_ranking_matches(world, ranking.url, database)
    doubled = {about: ids for about, ids in notices().items() if len(ids) > 1}
    assert not doubled, f"a notice was planned twice: {list(doubled.items())[:3]}"
    assert set(notices()) == expected_notices
