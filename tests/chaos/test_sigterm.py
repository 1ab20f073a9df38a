"""Issue 7.8: SIGTERM under load. Each service exits by itself within its graceful timeout, and
what it had in flight is either committed and acknowledged or redelivered: after a restart,
ranking's state equals the expected one, every issue the issues service accepted is on the
stream exactly once, and every issue gets exactly one supervision notice."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from services.contracts.streams import ISSUES
from tests.conftest import Servers

from .checks import (
    assert_one_notice_per_issue,
    assert_ranking_matches,
    ranking_reaches,
    watermark,
    whole_system_env,
)
from .harness import (
    OFFICE,
    SERVICES,
    FlakyReceiver,
    OwnNats,
    ServiceProcess,
    connect,
    eventually,
    fresh_database,
    publish_events,
    query,
    start_together,
    stream_messages,
)
from .world import build_world

pytestmark = pytest.mark.chaos

# uvicorn stops taking requests and waits up to 20 s for them; FastStream then waits up to 30 s
# for the handlers of the batch in flight (services/runtime/service.py, broker.py).
GRACEFUL_SECONDS = 20 + 30
CLEAN_STOP = '"message": "stopped"'


async def test_sigterm_under_load_commits_or_redelivers_in_flight_work(
    own_nats: OwnNats,
    servers: Servers,
    receiver: FlakyReceiver,
    fleet: list[ServiceProcess],
    tmp_path: Path,
    scale: int,
) -> None:
    world = build_world("st", 2000 * scale, seed=9)
    database = fresh_database(servers, "chaos_sigterm")
    env = whole_system_env(own_nats.url, database, receiver.url)
    procs = {s: ServiceProcess(s, env, tmp_path / "logs") for s in SERVICES}
    fleet.extend(procs.values())
    await start_together(procs.values())
    issues = procs["issues"]
    async with httpx.AsyncClient(headers=OFFICE, timeout=30) as client:
        body = {"unit_id": "st-http", "name": "单位", "category": "department"}
        assert (await client.post(f"{issues.url}/v1/units", json=body)).status_code == 201

    outcomes: dict[int, int | str] = {}
    stop_intake = asyncio.Event()

    async def intake(worker: int) -> None:
        """HTTP load on the issues service, through its restarts."""
        async with httpx.AsyncClient(headers=OFFICE, timeout=30) as client:
            k = worker
            while not stop_intake.is_set():
                body = {
                    "unit_id": "st-http",
                    "category": "暴露垃圾",
                    "point_type": "community",
                    "description": f"sigterm-request-{k}",
                    "location": {"address": "江门市蓬江区"},
                    "found_at": "2026-01-05T09:00:00+08:00",
                    "inspector": "张三",
                    "team": "第一督查组",
                }
                try:
                    response = await client.post(f"{issues.url}/v1/issues", json=body)
                    outcomes[k] = response.status_code
                except httpx.TransportError:
                    outcomes[k] = "unknown"
                    await asyncio.sleep(0.2)
                k += 4

    took: dict[str, float] = {}
    nc = await connect(own_nats.url)
    try:
        publishing = asyncio.create_task(publish_events(nc.jetstream(), world.events))
        workers = [asyncio.create_task(intake(w)) for w in range(4)]

        async def a_third_applied() -> bool:
            return await watermark(database) >= len(world.events) // 3

        await eventually(a_third_applied, 120, "ranking is busy")
        for name in ("ranking", "notify", "issues", "incentives"):
            proc = procs[name]
            stops = proc.log_file.read_text(errors="replace").count(CLEAN_STOP)
            code, seconds = await asyncio.to_thread(proc.terminate, GRACEFUL_SECONDS)
            # uvicorn re-raises SIGTERM once its graceful shutdown is over: -15 is a clean end
            # when the runtime logged that it stopped (pool closed, broker drained).
            clean = proc.log_file.read_text(errors="replace").count(CLEAN_STOP) == stops + 1
            assert code in (0, -signal.SIGTERM) and clean, (
                f"{name} did not stop cleanly in time ({code}):\n{proc.tail()}"
            )
            took[name] = seconds
            await asyncio.to_thread(proc.start)
        await publishing
        stop_intake.set()
        await asyncio.gather(*workers)

        # The issues outbox is empty: the stream holds all there will be.
        async def relayed() -> bool:
            rows = await query(
                database, "SELECT count(*) AS n FROM issues.outbox WHERE published_at IS NULL"
            )
            return bool(rows[0]["n"] == 0)

        await eventually(relayed, 30, "the issues outbox is empty")
        last_seq = (await nc.jetstream().stream_info("ISSUES")).state.last_seq
    finally:
        await nc.drain()
    assert all(seconds < GRACEFUL_SECONDS for seconds in took.values()), took

    await ranking_reaches(database, last_seq, 120, "ranking applied every event")
    others = last_seq - len(world.events)  # the issues service's own events, each stored once
    await assert_ranking_matches(
        world, procs["ranking"].url, database, position=last_seq, others=others
    )

    # Issues: every accepted report committed and on the stream once; nothing else is.
    nc = await connect(own_nats.url)
    try:
        stored = await stream_messages(nc.jetstream(), ISSUES.name, ISSUES.subjects)
    finally:
        await nc.drain()
    reports = Counter(
        json.loads(data)["description"]
        for _, subject, data, _ in stored
        if subject == "issues.v1.reported" and json.loads(data)["unit_id"] == "st-http"
    )
    committed = Counter(
        row["d"]
        for row in await query(database, "SELECT details->>'description' AS d FROM issues.issues")
    )
    assert reports == committed
    accepted = [k for k, outcome in outcomes.items() if outcome == 201]
    assert accepted and all(committed[f"sigterm-request-{k}"] == 1 for k in accepted)

    # Notify: one supervision notice per issue, none lost or planned twice.
    issue_ids = {str(i) for i in world.reported} | {
        json.loads(data)["issue_id"]
        for _, subject, data, _ in stored
        if subject == "issues.v1.reported" and json.loads(data)["unit_id"] == "st-http"
    }
    expected = {f"issue:{uuid.UUID(i)}" for i in issue_ids}
    await assert_one_notice_per_issue(receiver, expected)
