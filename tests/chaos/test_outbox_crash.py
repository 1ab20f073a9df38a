"""Issue 7.2: the issues service crashes, again and again, in the outbox window: after a change
committed and before the relay published it (and, the other way round, after the publish and
before the row was marked). Every committed change is on the stream exactly once by event_id;
no event exists for a change that did not commit."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from services.contracts.streams import ISSUES
from services.runtime.faults import FAULT_EXIT_CODE
from tests.conftest import Servers

from .harness import (
    OFFICE,
    OwnNats,
    ServiceProcess,
    connect,
    eventually,
    fresh_database,
    query,
    service_env,
    stream_messages,
)

pytestmark = pytest.mark.chaos

# The hook of each life, in turn: the relay's N-th row of that life crashes the process, just
# before it is sent (the rows before it in the window sent, unacknowledged) or once JetStream
# has acknowledged it (its window's marks not yet written).
HOOKS = ("crash_after_commit_before_publish@23", "crash_after_publish_before_mark@19")
UNITS = ("oc-dept-01", "oc-dept-02", "oc-dist-01")


def issues_env(nats_url: str, database_url: str, hook: str | None) -> dict[str, str]:
    extra = {"ISSUES_SCHEDULER_ENABLED": "false"}
    if hook is not None:
        extra["ISSUES_FAULT_HOOKS"] = json.dumps([hook])
    return service_env(nats_url, database_url, **extra)


def report(k: int) -> dict[str, object]:
    return {
        "unit_id": UNITS[k % len(UNITS)],
        "category": "暴露垃圾",
        "point_type": "community",
        "description": f"chaos-request-{k}",
        "location": {"address": "江门市蓬江区"},
        "found_at": "2024-05-06T09:00:00+08:00",
        "inspector": "张三",
        "team": "第一督查组",
    }


async def test_crashes_in_the_outbox_window_publish_each_committed_change_exactly_once(
    own_nats: OwnNats,
    servers: Servers,
    fleet: list[ServiceProcess],
    tmp_path: Path,
    scale: int,
) -> None:
    requests = 200 * scale
    database = fresh_database(servers, "chaos_outbox")
    issues = ServiceProcess("issues", issues_env(own_nats.url, database, None), tmp_path / "logs")
    fleet.append(issues)
    await asyncio.to_thread(issues.start)
    async with httpx.AsyncClient(base_url=issues.url, headers=OFFICE, timeout=10) as client:
        for unit_id in UNITS:
            category = "district" if "dist" in unit_id else "department"
            body = {"unit_id": unit_id, "name": unit_id, "category": category}
            assert (await client.post("/v1/units", json=body)).status_code == 201
    issues.terminate(30)

    lives = 0
    up = asyncio.Event()

    def start_next_life() -> None:
        """Start the next life with the next hook. A life may crash before it is ready: its
        relay publishes the backlog the last crash left first, and a crash mid-batch marks none
        of the batch. That is a crash like any other; but a backlog as long as every hook's
        count would crash every life there, so after two such lives in a row one life runs
        without a hook (it drains the backlog and serves the rest)."""
        nonlocal lives
        early = 0
        while True:
            hook = None if early >= 2 else HOOKS[lives % len(HOOKS)]
            issues.env = issues_env(own_nats.url, database, hook)
            lives += 1
            try:
                issues.start()
                return
            except RuntimeError:  # exited before it was ready
                if issues.exits[-1:] != [FAULT_EXIT_CODE]:
                    raise
                early += 1

    await asyncio.to_thread(start_next_life)
    up.set()
    outcomes: dict[int, int | str] = {}
    pending = list(range(requests))
    done = asyncio.Event()

    async def supervise() -> None:
        """Restart the service whenever a fault hook ended it; nothing else may end it."""
        while not done.is_set():
            if not issues.alive():
                up.clear()
                code = await asyncio.to_thread(issues.wait_exit, 10)
                assert code == FAULT_EXIT_CODE, f"issues died otherwise ({code}):\n{issues.tail()}"
                await asyncio.to_thread(start_next_life)
                up.set()
            await asyncio.sleep(0.05)

    async def client_worker() -> None:
        async with httpx.AsyncClient(base_url=issues.url, headers=OFFICE, timeout=10) as client:
            while pending:
                k = pending.pop(0)
                await up.wait()
                try:
                    response = await client.post("/v1/issues", json=report(k))
                    outcomes[k] = response.status_code
                except httpx.TransportError:
                    outcomes[k] = "unknown"  # the process died with the request in flight
                    await asyncio.sleep(0.3)  # until the supervisor has seen the crash

    supervisor = asyncio.create_task(supervise())
    try:
        await asyncio.gather(*(client_worker() for _ in range(4)))
    finally:
        done.set()
        await supervisor
    if not issues.alive():
        assert await asyncio.to_thread(issues.wait_exit, 10) == FAULT_EXIT_CODE
    else:
        issues.terminate(30)
    # A last life without hooks publishes whatever the crashes left behind.
    issues.env = issues_env(own_nats.url, database, None)
    await asyncio.to_thread(issues.start)

    async def relayed() -> bool:
        rows = await query(
            database, "SELECT count(*) AS n FROM issues.outbox WHERE published_at IS NULL"
        )
        return bool(rows[0]["n"] == 0)

    await eventually(relayed, 60, "the outbox is empty")

    # The hooks fired, both of them, more than once.
    fired = Counter(
        line.removeprefix("fault hook fired: ")
        for line in issues.log_file.read_text(errors="replace").splitlines()
        if line.startswith("fault hook fired: ")
    )
    crashes = issues.exits.count(FAULT_EXIT_CODE)
    assert crashes >= 4 and sum(fired.values()) == crashes, (fired, issues.exits)
    assert fired["crash_after_commit_before_publish"] >= 2
    assert fired["crash_after_publish_before_mark"] >= 2

    outbox = await query(database, "SELECT event_id, stream_seq, parked_at FROM issues.outbox")
    assert all(row["parked_at"] is None for row in outbox)
    nc = await connect(own_nats.url)
    try:
        stored = await stream_messages(nc.jetstream(), ISSUES.name, ISSUES.subjects)
    finally:
        await nc.drain()
    on_stream = Counter(uuid.UUID(json.loads(data)["event_id"]) for _, _, data, _ in stored)
    assert on_stream.most_common(1)[0][1] == 1, "an event is on the stream twice"
    assert set(on_stream) == {row["event_id"] for row in outbox}, (
        "a committed change is missing from the stream, or an event has no committed change"
    )
    seq_of = {uuid.UUID(json.loads(data)["event_id"]): seq for seq, _, data, _ in stored}
    assert all(seq_of[row["event_id"]] == row["stream_seq"] for row in outbox)

    # Per request: committed (in the issues table) <=> its report is on the stream, once.
    committed = Counter(
        row["d"]
        for row in await query(database, "SELECT details->>'description' AS d FROM issues.issues")
    )
    reported = Counter(
        json.loads(data)["description"]
        for _, subject, data, _ in stored
        if subject == "issues.v1.reported"
    )
    assert reported == committed
    for k, outcome in outcomes.items():
        if outcome == 201:
            assert committed[f"chaos-request-{k}"] == 1, f"request {k} got 201 but is not stored"
    assert sum(1 for o in outcomes.values() if o == 201) >= requests // 2, Counter(
        outcomes.values()
    )
