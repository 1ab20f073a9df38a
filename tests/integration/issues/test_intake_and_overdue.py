"""R2.1 numbering under concurrency and R2.4 overdue events, with two replicas of the service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.conftest import Servers

from .conftest import Issues, intake, unique

pytestmark = pytest.mark.integration


async def register(replica: Issues, unit_id: str, category: str = "district", **extra: Any) -> None:
    async with replica.client() as office:
        body = {"unit_id": unit_id, "name": "测试单位", "category": category, **extra}
        response = await office.post("/v1/units", json=body)
        assert response.status_code == 201, response.text


def sequence(number: str) -> tuple[str, int]:
    prefix, year, seq = number.split("-")
    return f"{prefix}-{year}", int(seq)


async def test_concurrent_reports_on_two_replicas_get_unique_gap_free_numbers(
    replicas: Callable[[int], Any], servers: Servers
) -> None:
    a, b = await replicas(2)
    unit = unique("conc")
    await register(a, unit)
    async with a.client("dev-inspector") as ca, b.client("dev-inspector") as cb:
        responses = await asyncio.gather(
            *(
                (ca if i % 2 else cb).post("/v1/issues", json=intake(unit, description=f"#{i}"))
                for i in range(200)
            )
        )
    assert [r.status_code for r in responses] == [201] * 200
    numbers = [r.json()["number"] for r in responses]
    assert len(set(numbers)) == 200
    seqs = sorted(sequence(n)[1] for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 200))  # nobody else reported meanwhile
    # R2.1: gap-free per year over everything the service ever numbered.
    with psycopg.connect(servers.database_url) as conn:
        rows = conn.execute("SELECT number FROM issues.issues").fetchall()
    by_year: dict[str, list[int]] = {}
    for (number,) in rows:
        year, seq = sequence(number)
        by_year.setdefault(year, []).append(seq)
    for seqs in by_year.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))


def overdue_events(servers: Servers, unit: str) -> list[dict[str, Any]]:
    with psycopg.connect(servers.database_url) as conn:
        rows = conn.execute(
            "SELECT convert_from(payload, 'UTF8')::jsonb FROM issues.outbox"
            " WHERE subject = 'issues.v1.overdue'"
            " AND convert_from(payload, 'UTF8')::jsonb->>'unit_id' = %s",
            (unit,),
        ).fetchall()
    return [row[0] for row in rows]


async def test_two_replicas_emit_each_overdue_event_once_across_restarts_and_reopenings(
    replicas: Callable[[int], Any], servers: Servers
) -> None:
    a, b = await replicas(2)
    unit = unique("late")
    await register(a, unit)
    now = datetime.now(UTC)
    late = intake(
        unit,
        found_at=(now - timedelta(hours=2)).isoformat(),
        deadline=(now - timedelta(hours=1)).isoformat(),
    )
    async with a.client("dev-inspector") as inspector:
        issues = [(await inspector.post("/v1/issues", json=late)).json() for _ in range(30)]

    for _ in range(3):  # R2.4: polling again and again emits nothing new
        await asyncio.gather(a.scheduler.run_once(), b.scheduler.run_once())
    events = overdue_events(servers, unit)
    assert sorted(e["issue_id"] for e in events) == sorted(i["issue_id"] for i in issues)

    # A restarted replica finds the flags stored and emits nothing again.
    (c,) = await replicas(1)
    await c.scheduler.run_once()
    assert len(overdue_events(servers, unit)) == 30

    # Reopened after its deadline: a new entry into the condition, a new event (R2.3, R2.4).
    first = issues[0]["issue_id"]
    async with c.client(f"dev-unit-{unit}") as owner, c.client("dev-inspector") as inspector:
        fixed = await owner.post(
            f"/v1/issues/{first}/rectification", json={"evidence": ["https://p.example/1.jpg"]}
        )
        assert fixed.status_code == 200, fixed.text
        failed = await inspector.post(f"/v1/issues/{first}/inspection", json={"result": "fail"})
        assert failed.json()["state"] == "reopened"
    await asyncio.gather(a.scheduler.run_once(), c.scheduler.run_once())
    again = [e for e in overdue_events(servers, unit) if e["issue_id"] == first]
    assert sorted(e["aggregate_version"] for e in again) == [2, 5]
