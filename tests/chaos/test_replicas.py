"""Issue 7.7: two replicas of every service share their durable consumers under load; the
results equal the expected ones: rates and edition (pure ranking domain), the allocation (pure
incentives domain), one supervision notice per issue, gap-free issue numbers across the two
issues replicas."""

from __future__ import annotations

import asyncio
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.incentives.domain.apportionment import apportion
from services.incentives.domain.calendar import planned_editions
from services.incentives.domain.pool import pool_for_edition
from tests.conftest import Servers

from .checks import as_json, assert_one_notice_per_issue, ranking_reaches, whole_system_env
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
    start_together,
)
from .world import CUTOFF, TZ, World, build_world

pytestmark = pytest.mark.chaos

FUND_FEN = 800_000_000  # R6.1 default
ELIGIBLE = ("department", "district")  # R6.1 default


def expected_paid(world: World) -> dict[str, int]:
    """R6.2-R6.3 for the year's first edition (k = 0): the pool, split over the red-listed
    units of eligible categories by their composite scores."""
    edition = world.expected_edition()
    scores: dict[str, Fraction] = {}
    for category in ELIGIBLE:
        board: Any = edition["categories"][category]
        rows = {row["unit_id"]: row for row in board["rows"]}
        for unit_id in board["red"]:
            if unit_id not in board["black"]:
                scores[unit_id] = Fraction(rows[unit_id]["composite"]["exact"])
    pool = pool_for_edition(FUND_FEN, 0, planned_editions(CUTOFF.year, TZ), 0)
    return apportion(pool, scores)


async def test_two_replicas_of_every_service_give_the_expected_results(
    own_nats: OwnNats,
    servers: Servers,
    receiver: FlakyReceiver,
    fleet: list[ServiceProcess],
    tmp_path: Path,
    scale: int,
) -> None:
    world = build_world("rp", 3000 * scale)
    intake = 60 * scale  # issues reported over HTTP, half through each issues replica
    database = fresh_database(servers, "chaos_replicas")
    env = whole_system_env(own_nats.url, database, receiver.url)
    replicas = {
        service: [ServiceProcess(service, env, tmp_path / "logs", f"{service}-{n}") for n in (1, 2)]
        for service in SERVICES
    }
    for pair in replicas.values():
        fleet.extend(pair)
    # Migrations and stream provisioning race between replicas: all eight start at once.
    await start_together(fleet)
    issues = replicas["issues"]

    async with httpx.AsyncClient(headers=OFFICE, timeout=30) as client:
        for n, proc in enumerate(issues):
            body = {"unit_id": f"rp-http-{n}", "name": f"单位 {n}", "category": "department"}
            assert (await client.post(f"{proc.url}/v1/units", json=body)).status_code == 201

        async def report(k: int) -> dict[str, Any]:
            proc = issues[k % 2]
            body = {
                "unit_id": f"rp-http-{k % 2}",
                "category": "暴露垃圾",
                "point_type": "community",
                "description": f"replica-request-{k}",
                "location": {"address": "江门市蓬江区"},
                "found_at": "2026-01-05T09:00:00+08:00",
                "inspector": "张三",
                "team": "第一督查组",
            }
            response = await client.post(f"{proc.url}/v1/issues", json=body)
            assert response.status_code == 201, response.text
            return dict(response.json())

        nc = await connect(own_nats.url)
        try:
            sem = asyncio.Semaphore(8)

            async def bounded(k: int) -> dict[str, Any]:
                async with sem:
                    return await report(k)

            created, _ = await asyncio.gather(
                asyncio.gather(*(bounded(k) for k in range(intake))),
                publish_events(nc.jetstream(), world.events),
            )
            last_seq = (await nc.jetstream().stream_info("ISSUES")).state.last_seq
        finally:
            await nc.drain()

        # R2.1: numbers gap-free and unique although two replicas allocated them.
        numbers = sorted(int(re.sub(r"^.*-", "", issue["number"])) for issue in created)
        assert numbers == list(range(numbers[0], numbers[0] + intake))

        await ranking_reaches(database, last_seq, 180, "the ranking replicas applied every event")

        ranking = replicas["ranking"]
        expected_rates = as_json(world.expected_rates())
        for proc in ranking:
            r = await client.get(f"{proc.url}/v1/rates", params={"at": CUTOFF.isoformat()})
            rates = r.json()
            assert rates.pop("input_positions")["ISSUES"] == last_seq
            assert rates == expected_rates
        # Both replicas asked to publish the same cutoff at once: one edition (R4.1).
        cutoff = {"cutoff": CUTOFF.isoformat()}
        first, second = await asyncio.gather(
            *(client.post(f"{proc.url}/v1/editions", json=cutoff) for proc in ranking)
        )
        assert first.status_code == second.status_code == 200, (first.text, second.text)
        editions = [first.json(), second.json()]
        assert {(e["year"], e["number"], e["revision"]) for e in editions} == {(2024, 1, 1)}
        assert sorted(e["created"] for e in editions) == [False, True]
        expected = as_json(world.expected_edition())
        assert {k: editions[0][k] for k in expected} == expected

        paid = expected_paid(world)
        assert paid, "the scenario pays nobody: the check would be empty"

        async def allocated() -> bool:
            found = []
            for proc in replicas["incentives"]:
                r = await client.get(f"{proc.url}/v1/allocations/2024/1")
                found.append(r.json() if r.status_code == 200 else None)
            return all(found) and all(
                {p["unit_id"]: p["fen"] for p in a["paid"]} == paid for a in found if a
            )

        await eventually(allocated, 60, "both incentives replicas show the expected allocation")
        ledger = (
            await client.get(f"{replicas['incentives'][0].url}/v1/ledger", params={"year": 2024})
        ).json()
        assert sorted((e["unit_id"], e["fen"]) for e in ledger) == sorted(paid.items())

    expected_notices = {f"issue:{issue_id}" for issue_id in world.reported} | {
        f"issue:{issue['issue_id']}" for issue in created
    }
    await assert_one_notice_per_issue(receiver, expected_notices)
    for proc in fleet:
        assert proc.alive() and proc.exits == [], f"{proc.name} died:\n{proc.tail()}"
