"""Intake benchmark (issue 3, targets of issue 7): ``POST /v1/issues``, under two loads.

- ours: the issues service (auth, validation, gap-free number, issue row, history row, outbox
  row in one transaction; its outbox relay publishing to JetStream meanwhile), called in
  process through httpx's ASGI transport;
- raw: per request, bare psycopg with a pool of the same size: the same gap-free number
  allocation (one counter row per year), one INSERT of the issue and one outbox row, in one
  transaction.

Two loads, each run for both:

- closed loop, saturated: ``CLIENTS`` (50) clients, each sending its next request as soon as
  the last one answers. This measures throughput; the ratio is time per request (ours / raw)
  and the throughput target is at least 30% of raw (ratio <= 3.33). Its latencies are queueing
  at saturation, not the service's: with 50 requests always in flight, p50 ≈ 50 / throughput.
- open loop, paced: requests are started at a fixed offered rate, ``PACE`` (100 req/s), each at
  its scheduled instant whether or not the earlier ones have answered, and each latency counts
  from that scheduled instant (so a late start, a busy event loop or a backlog is in the figure,
  not hidden by coordinated omission). The p99 target (< 50 ms) is judged on this load.

Why a fixed 100 req/s rather than a share of raw's measured rate: it is a load both sides can
carry on the 2-core machine (about half of ours' saturated rate, a quarter of raw's or less),
so the figure is the service's latency rather than a queue's; it is the same load in every run
and on every machine, so runs compare; and it is far above a campaign's real intake (thousands
of issues over months), so meeting it here is not flattering. A share of raw's rate would move
with the machine's noise and, at 50%, sit at ours' saturation point, measuring a queue again.

Also recorded: the CPU time of this process per request in the closed loop (ours: the httpx
driver, the service, and its relay until it has published the run's events; raw: the driver
and psycopg; PostgreSQL and NATS are other processes).
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from bench.result import Bench, Figure, Result, rates
from services.issues.app import build
from services.issues.settings import IssuesSettings
from services.runtime.service import ServiceRuntime

CLIENTS = 50
PACE = 100.0  # req/s offered in the open-loop measurement
P99_TARGET_MS = 50.0
BODY = {
    "category": "占道经营",
    "point_type": "road",
    "description": "人行道上摆摊",
    "location": {"address": "江门市江海区"},
    "found_at": "2018-05-02T09:00:00+08:00",
    "inspector": "李四",
    "team": "第二督查组",
}

One = Callable[[], Awaitable[None]]


@dataclass
class Run:
    """One load's measurement: wall seconds, latencies (ms) and this process's CPU seconds."""

    seconds: float
    latencies: list[float]
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def quantile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1]

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds * 1000 / len(self.latencies)


async def _closed(count: int, one: One) -> Run:
    """``count`` requests from ``CLIENTS`` clients, each waiting for its answer before the next."""
    latencies: list[float] = []
    todo = iter(range(count))

    async def client() -> None:
        for _ in todo:
            started = time.perf_counter()
            await one()
            latencies.append((time.perf_counter() - started) * 1000)

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return Run(time.perf_counter() - started, latencies, time.process_time() - cpu)


async def _paced(count: int, one: One) -> Run:
    """Open loop: request ``i`` is due at ``i / PACE`` s and starts then, however many are in
    flight; its latency runs from when it was due, not from when it managed to start."""
    latencies: list[float] = []

    async def timed(due: float) -> None:
        await one()
        latencies.append((time.perf_counter() - due) * 1000)

    cpu, started = time.process_time(), time.perf_counter()
    tasks = []
    for i in range(count):
        due = started + i / PACE
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(timed(due)))
    await asyncio.gather(*tasks)
    return Run(time.perf_counter() - started, latencies, time.process_time() - cpu)


async def _raw(database_url: str, count: int, paced: int, pool_max: int) -> tuple[Run, Run]:
    pool = AsyncConnectionPool(database_url, min_size=pool_max, max_size=pool_max, open=False)
    await pool.open(wait=True)
    async with pool.connection() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS public.raw_numbers (year int PRIMARY KEY, last int);"
            "CREATE TABLE IF NOT EXISTS public.raw_issues (issue_id uuid PRIMARY KEY,"
            " number text UNIQUE, unit_id text, body jsonb, reported_at timestamptz);"
            "CREATE TABLE IF NOT EXISTS public.raw_outbox (id bigserial PRIMARY KEY,"
            " event_id uuid UNIQUE, subject text, payload bytea);"
        )

    async def one() -> None:
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO public.raw_numbers VALUES (2018, 1) ON CONFLICT (year)"
                " DO UPDATE SET last = raw_numbers.last + 1 RETURNING last"
            )
            row = await cur.fetchone()
            assert row is not None
            issue_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO public.raw_issues VALUES (%s, %s, 'bench', '{}', now())",
                (issue_id, f"JM-2018-{row[0]:06d}"),
            )
            await conn.execute(
                "INSERT INTO public.raw_outbox (event_id, subject, payload) VALUES (%s, %s, %s)",
                (uuid.uuid4(), "issues.v1.reported", b"{}"),
            )

    try:
        return await _closed(count, one), await _paced(paced, one)
    finally:
        await pool.close()


async def _outbox_drained(runtime: ServiceRuntime, within_seconds: float = 120.0) -> None:
    """Wait until the relay has published the closed loop's backlog, so that the paced run
    meets a relay that only keeps up with its own events."""
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline:
        async with runtime.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND parked_at IS NULL"
            )
            row = await cur.fetchone()
        if row is not None and row["n"] == 0:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the outbox relay did not drain within {within_seconds:.0f} s")


async def _ours(settings: IssuesSettings, count: int, paced: int) -> tuple[Run, Run]:
    app, runtime = build(settings)
    try:
        # The app's lifespan, as uvicorn runs it: the runtime and the service's own start-up.
        async with app.router.lifespan_context(app):
            return await _drive_ours(app, runtime, count, paced)
    finally:
        # The service froze this process's heap at start-up (``settle_heap``), as it does its
        # own; the benchmarks after this one get the collector back as they would find it.
        gc.unfreeze()


async def _drive_ours(
    app: FastAPI, runtime: ServiceRuntime, count: int, paced: int
) -> tuple[Run, Run]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer dev-office"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://issues", headers=headers, timeout=60
    ) as client:
        unit = f"bench-{uuid.uuid4().hex[:8]}"
        await client.post(
            "/v1/units", json={"unit_id": unit, "name": "基准", "category": "district"}
        )

        async def one() -> None:
            response = await client.post("/v1/issues", json={**BODY, "unit_id": unit})
            assert response.status_code == 201, response.text

        closed = await _closed(count, one)
        cpu = time.process_time()
        await _outbox_drained(runtime)
        closed.cpu_seconds += time.process_time() - cpu  # the relay's share of the run
        return closed, await _paced(paced, one)


def _closed_note(label: str, run: Run) -> str:
    return (
        f"{label} closed loop ({CLIENTS} clients, saturated): {run.rate:,.0f} req/s,"
        f" p50 {run.quantile(50):.1f} ms, p99 {run.quantile(99):.1f} ms (queueing),"
        f" {run.cpu_ms:.2f} ms CPU/req in this process"
    )


def _paced_note(label: str, run: Run) -> str:
    return (
        f"{label} open loop at {PACE:.0f} req/s offered: reached {run.rate:,.0f} req/s,"
        f" p50 {run.quantile(50):.1f} ms, p99 {run.quantile(99):.1f} ms,"
        f" max {max(run.latencies):.1f} ms (from the scheduled start)"
    )


def _figures(label: str, closed: Run, paced: Run) -> dict[str, Figure]:
    return {
        f"{label}_closed_requests_per_s": closed.rate,
        f"{label}_closed_p50_ms": closed.quantile(50),
        f"{label}_closed_p99_ms": closed.quantile(99),
        f"{label}_cpu_ms_per_request": closed.cpu_ms,
        f"{label}_paced_reached_per_s": paced.rate,
        f"{label}_paced_p50_ms": paced.quantile(50),
        f"{label}_paced_p99_ms": paced.quantile(99),
        f"{label}_paced_max_ms": max(paced.latencies),
    }


async def issues_intake(nats_url: str, database_url: str, count: int) -> Result:
    count = min(count, 3000)
    paced = min(count, 1500)  # 15 s at PACE
    settings = IssuesSettings(
        nats_url=nats_url,
        database_url=database_url,
        auth_mode="dev",
        log_level="WARNING",
        scheduler_enabled=False,
    )
    raw_closed, raw_paced = await _raw(database_url, count, paced, settings.db_pool_max)
    ours_closed, ours_paced = await _ours(settings, count, paced)
    p99 = ours_paced.quantile(99)
    target = 1 / 0.3
    notes = (
        _closed_note("ours", ours_closed),
        _closed_note("raw ", raw_closed),
        _paced_note("ours", ours_paced),
        _paced_note("raw ", raw_paced),
        f"p99 target {P99_TARGET_MS:.0f} ms, judged at {PACE:.0f} req/s offered (open loop):"
        f" {'met' if p99 < P99_TARGET_MS else 'NOT met'} (ours {p99:.1f} ms)",
    )
    return Result(
        "issues_intake",
        ours_closed.seconds,
        raw_closed.seconds,
        target=target,
        notes=notes,
        what=(
            f"{count:,} POST /v1/issues from {CLIENTS} clients (closed loop, in process), then"
            f" {paced:,} at {PACE:.0f} req/s (open loop), vs bare psycopg"
        ),
        figures={
            "requests_closed": count,
            "clients": CLIENTS,
            "requests_paced": paced,
            "paced_offered_per_s": PACE,
            **_figures("ours", ours_closed, ours_paced),
            **_figures("raw", raw_closed, raw_paced),
        },
        headline=rates(count, ours_closed.seconds, raw_closed.seconds, "req/s"),
        goal=(
            f"≥ 30% of the raw rate (closed loop) and p99 < {P99_TARGET_MS:.0f} ms"
            f" at {PACE:.0f} req/s (open loop)"
        ),
        # Both of the issue's targets: the throughput share and the absolute p99 (paced).
        met=ours_closed.seconds / raw_closed.seconds <= target and p99 < P99_TARGET_MS,
    )


BENCHMARKS: tuple[Bench, ...] = (issues_intake,)
