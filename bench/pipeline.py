"""Pipeline benchmarks (issue 7): the four services as separate processes under HTTP load.

One load run serves both benchmarks (whichever runs first makes it). The services start as
``make run`` starts them (``python -m services.<name>``, ``AUTH_MODE=dev``, ``LOG_LEVEL=WARNING``,
ranking's weekly schedule off) on a NATS server and a database of their own, so that their
streams and projections neither see nor leave behind the other benchmarks' events. Over HTTP:
N/100 units are registered and N issues reported (20 clients), every consumer of ``ISSUES``
catches up, then the issues are rectified in two paced phases (open loop, at most 100 in
flight): a quarter at the issue's 1,000/s, and the rest at that pace again if the machine kept
it, else at half the rate it reached (a pace it sustains). N is ``--messages``, at most 1,000.

- ``e2e_rectification_latency``: from each rectification's HTTP 2xx until ranking's
  projection reflects it, i.e. its ``issue_facts`` row is at or below the ``ISSUES`` input
  position (R7): from then on ``GET /v1/rates`` counts it. Seen by polling ranking's schema
  with psycopg every 5 ms (the resolution): ``/v1/rates`` computes every unit's rates and says
  nothing of one issue, too heavy to poll that often; it is called once at the end to check
  the count. Raw baseline: bare nats-py, the same rectified payload (taken from the stream)
  published at the second phase's rate to a scratch stream, from the publish call until a
  pull consumer (fetch 100, ack) holds it (300 messages at most). Target: p99 < 100 ms at
  1,000 events/s; met only if the machine kept that pace.
- ``peak_rss_per_service``: each service's peak resident memory over the whole run (the
  kernel's ``VmHWM``, and psutil samples every 0.2 s), with its RSS once ready for context. No
  target in the issue: a generous ceiling of 512 MB each.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import nats
import nats.errors
import psutil
import psycopg

from bench.result import Bench, Headline, Result
from services.runtime import embedded

SERVICES = ("issues", "ranking", "notify", "incentives")
ROOT = Path(__file__).resolve().parents[1]
MAX_ISSUES = 1_000
RATE = 1000.0  # rectifications per second asked for (the issue's load)
SUSTAINED = 0.5  # of the best rate reached, when the machine cannot keep the issue's
RAW_MESSAGES = 300
IN_FLIGHT = 100
CLIENTS = 20
POLL_SECONDS = 0.005  # the latency's resolution; polling costs CPU the services need
P99_TARGET_MS = 100.0
RSS_CEILING_MB = 512.0
EVIDENCE = {"evidence": ["https://photos.example/after.jpg"]}
BODY = {
    "category": "暴露垃圾",
    "point_type": "community",
    "description": "小区门口垃圾未清理",
    "location": {"address": "江门市蓬江区"},
    "found_at": "2018-05-02T09:00:00+08:00",
    "inspector": "张三",
    "team": "第一督查组",
}
# ranking's projection, exactly as /v1/rates reads it: facts at or below the input position.
REFLECTED_SQL = (
    "SELECT p.watermark, f.issue_id FROM ranking.input_positions p"
    " LEFT JOIN ranking.issue_facts f ON f.kind = %s"
    " AND f.stream_seq > %s AND f.stream_seq <= p.watermark WHERE p.stream = 'ISSUES'"
)


@dataclass
class Phase:
    """Rectifications sent at one pace, and what each one took."""

    asked: float  # per second
    reached: float = 0.0  # sent / (first send .. last 2xx)
    e2e_ms: list[float] = field(default_factory=list)  # 2xx -> reflected (0 if it was first)
    http_ms: list[float] = field(default_factory=list)
    early: int = 0  # reflected before the client had read the 2xx


@dataclass
class Load:
    """What one load run measured."""

    issues: int
    units: int
    report_rate: float = 0.0  # issues reported per second (setup, 20 clients)
    phases: list[Phase] = field(default_factory=list)
    rated: int = 0  # rectified issues of the run's units in GET /v1/rates at the end
    raw_ms: list[float] = field(default_factory=list)
    rss_ready_mb: dict[str, float] = field(default_factory=dict)
    rss_peak_mb: dict[str, float] = field(default_factory=dict)

    @property
    def shown(self) -> Phase:
        """The issue's pace if the machine kept it, else the sustained one."""
        return self.phases[-1]


_runs: dict[tuple[str, int], Load | Exception] = {}


class Services:
    """The four services as child processes, with their memory watched."""

    def __init__(self, nats_url: str, database_url: str, logs: Path) -> None:
        self.ports = {s: embedded.free_port() for s in SERVICES}
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.peak_mb = dict.fromkeys(SERVICES, 0.0)
        prefixes = tuple(f"{s.upper()}_" for s in SERVICES)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        self.env |= {"NATS_URL": nats_url, "DATABASE_URL": database_url, "AUTH_MODE": "dev"}
        self.env |= {"LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        self.env |= {f"{s.upper()}_HTTP_PORT": str(p) for s, p in self.ports.items()}
        self.env["RANKING_SCHEDULE_ENABLED"] = "false"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def spawn(self, service: str) -> None:
        with (self.logs / f"{service}.log").open("ab") as log:
            self.procs[service] = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self, within: float = 120) -> None:
        for s in SERVICES:
            self.spawn(s)
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as client:
            for s in SERVICES:
                while not await _ready(client, self.url(s) + "/readyz"):
                    if self.procs[s].poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{s} did not start:\n{self.tail(s)}")
                    await asyncio.sleep(0.2)

    def tail(self, service: str) -> str:
        return (self.logs / f"{service}.log").read_text(errors="replace")[-2000:]

    def sample(self) -> dict[str, float]:
        """Each service's RSS now, in MB; the highest seen so far is kept."""
        now = {}
        for s, p in self.procs.items():
            with contextlib.suppress(psutil.Error):  # a service that died shows in its log
                now[s] = psutil.Process(p.pid).memory_info().rss / 2**20
                self.peak_mb[s] = max(self.peak_mb[s], now[s])
        return now

    def high_water(self) -> dict[str, float]:
        """The peak RSS of each process's whole life: the kernel's VmHWM (Linux), or samples."""
        found = dict(self.peak_mb)
        for s, p in self.procs.items():
            status = Path(f"/proc/{p.pid}/status")
            for line in status.read_text().splitlines() if status.exists() else ():
                if line.startswith("VmHWM:"):
                    found[s] = max(found[s], int(line.split()[1]) / 1024)
        return found

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


async def _post(client: httpx.AsyncClient, path: str, token: str, body: Any) -> Any:
    response = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if response.status_code >= 300:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
    return response.json()


async def _closed(count: int, clients: int, one: Callable[[int], Awaitable[None]]) -> float:
    """``count`` calls from ``clients`` concurrent loops; the seconds they took."""
    todo = iter(range(count))

    async def client() -> None:
        for i in todo:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(min(clients, count))))
    return time.perf_counter() - started


async def _paced(count: int, rate: float, one: Callable[[int], Awaitable[None]]) -> float:
    """Call ``i`` starts at ``i / rate`` s (open loop: a late start does not push the next
    ones back), at most ``IN_FLIGHT`` at once; the seconds until the last one finished."""
    room = asyncio.Semaphore(IN_FLIGHT)
    tasks = []

    async def run(i: int) -> None:
        try:
            await one(i)
        finally:
            room.release()

    started = time.perf_counter()
    for i in range(count):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await room.acquire()
        tasks.append(asyncio.create_task(run(i)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - started


async def _watch(
    db: psycopg.AsyncConnection[Any],
    kind: str,
    seen: dict[str, float],
    stop: asyncio.Event,
    every: float = POLL_SECONDS,
) -> None:
    """Record when each issue's ``kind`` fact becomes part of ranking's projection (stopped by
    ``stop``, not cancelled: a query cut short would leave the connection unusable)."""
    floor = 0
    while not stop.is_set():
        cur = await db.execute(REFLECTED_SQL, (kind, floor))
        rows = await cur.fetchall()
        now = time.perf_counter()
        for watermark, issue in rows:
            floor = max(floor, watermark)
            if issue is not None:
                seen.setdefault(str(issue), now)
        await asyncio.sleep(every)


async def _until(
    done: Callable[[], bool], within: float, what: str, watcher: asyncio.Task[None]
) -> None:
    """Wait for ``done``; a watcher that failed ends the wait (its error is raised after)."""
    deadline = time.monotonic() + within
    while not done() and not watcher.done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done after {within:.0f} s")
        await asyncio.sleep(0.05)


async def _caught_up(nats_url: str, db: psycopg.AsyncConnection[Any], count: int) -> None:
    """Every report is in ranking's projection and no consumer of ISSUES has work left."""
    seen: dict[str, float] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch(db, "reported", seen, stop, 0.05))
    try:
        await _until(lambda: len(seen) >= count, 120 + count / 50, "ranking catching up", watcher)
    finally:
        stop.set()
        await watcher
    nc = await nats.connect(nats_url)
    deadline = time.monotonic() + 120
    try:
        while True:
            infos = await nc.jetstream().consumers_info("ISSUES")
            if all(c.num_pending == 0 and c.num_ack_pending == 0 for c in infos):
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the consumers of ISSUES still have work after 120 s")
            await asyncio.sleep(0.2)
    finally:
        await nc.close()


def _client(base_url: str) -> httpx.AsyncClient:
    """Fresh connections for each phase: uvicorn closes those idle for 5 s, and reusing one
    just as it closes fails the request."""
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    return httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits)


async def _rectify(
    url: str, db: psycopg.AsyncConnection[Any], todo: list[tuple[str, str]], rate: float
) -> Phase:
    """Rectify each (issue, unit) of ``todo`` at ``rate``; the time from 2xx to projection."""
    phase = Phase(asked=rate, http_ms=[0.0] * len(todo))
    client = _client(url)
    answered = [0.0] * len(todo)

    async def rectify(i: int) -> None:
        issue, unit = todo[i]
        started = time.perf_counter()
        await _post(client, f"/v1/issues/{issue}/rectification", f"dev-unit-{unit}", EVIDENCE)
        answered[i] = time.perf_counter()
        phase.http_ms[i] = (answered[i] - started) * 1000

    seen: dict[str, float] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch(db, "rectified", seen, stop))
    try:
        async with client:
            phase.reached = len(todo) / await _paced(len(todo), rate, rectify)
        wanted = {issue for issue, _ in todo}
        await _until(lambda: wanted <= seen.keys(), 120, "rectifications reflected", watcher)
    finally:
        stop.set()
        await watcher
    lags = [seen[issue] - at for (issue, _), at in zip(todo, answered, strict=True)]
    phase.early = sum(1 for lag in lags if lag < 0)
    phase.e2e_ms = [max(0.0, lag) * 1000 for lag in lags]
    return phase


async def _drive(services: Services, nats_url: str, db_url: str, load: Load) -> None:
    count, url = load.issues, services.url("issues")
    units = [f"bench-pl-{i:05d}" for i in range(load.units)]
    reported: list[tuple[str, str]] = [("", "")] * count
    async with _client(url) as client:

        async def register(i: int) -> None:
            unit = {"unit_id": units[i], "name": f"基准单位{i}", "category": "district"}
            await _post(client, "/v1/units", "dev-office", unit)

        async def report(i: int) -> None:
            unit = units[i % len(units)]
            issue = await _post(client, "/v1/issues", "dev-inspector", {**BODY, "unit_id": unit})
            reported[i] = (issue["issue_id"], unit)

        await _closed(len(units), CLIENTS, register)
        load.report_rate = count / await _closed(count, CLIENTS, report)
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as db:
        await _caught_up(nats_url, db, count)
        first = await _rectify(url, db, reported[: count // 4], RATE)
        # The issue's pace again if the machine kept it; else one it sustains, below its best.
        then = RATE if first.reached >= 0.95 * RATE else SUSTAINED * first.reached
        load.phases = [first, await _rectify(url, db, reported[count // 4 :], then)]
    load.rss_peak_mb = services.high_water()  # before the heavy /v1/rates check below
    async with httpx.AsyncClient(base_url=services.url("ranking"), timeout=300) as ranking:
        at = datetime.now(UTC).isoformat()
        auth = {"Authorization": "Bearer dev-viewer"}
        response = await ranking.get("/v1/rates", params={"at": at}, headers=auth)
        response.raise_for_status()
    ours = set(units)
    load.rated = sum(u["rectified"] for u in response.json()["units"] if u["unit_id"] in ours)


async def _raw(nats_url: str, count: int, rate: float) -> list[float]:
    """Bare nats-py: the same payload at the same rate, publish call to a consumer's hands."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    payload = (await js.get_last_msg("ISSUES", "issues.v1.rectified")).data or b""
    await js.add_stream(name="BENCH_RAW_E2E", subjects=["bench.raw.e2e"])
    sub = await js.pull_subscribe("bench.raw.e2e", durable="bench-raw-e2e")
    sent, got = [0.0] * count, [0.0] * count

    async def consume() -> None:
        left = count
        while left:
            try:
                msgs = await sub.fetch(100, timeout=1)
            except nats.errors.TimeoutError:
                continue
            now = time.perf_counter()
            for msg in msgs:
                got[int((msg.headers or {})["Nats-Msg-Id"])] = now
                await msg.ack()
                left -= 1

    async def publish(i: int) -> None:
        sent[i] = time.perf_counter()
        await js.publish("bench.raw.e2e", payload, headers={"Nats-Msg-Id": str(i)})

    consumer = asyncio.create_task(consume())
    await _paced(count, rate, publish)
    await asyncio.wait_for(consumer, 60)
    await nc.drain()
    return [(g - s) * 1000 for s, g in zip(sent, got, strict=True)]


async def _fresh_database(database_url: str) -> str:
    name = f"bench_pipeline_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))


async def _sample_every(services: Services, seconds: float) -> None:
    while True:
        services.sample()
        await asyncio.sleep(seconds)


async def run_load(database_url: str, count: int) -> Load:
    """The load run, once per database and size (a failure too is remembered, not retried)."""
    key = (database_url, min(count, MAX_ISSUES))
    if key not in _runs:
        try:
            _runs[key] = await _load(database_url, key[1])
        except Exception as exc:
            _runs[key] = exc
    found = _runs[key]
    if isinstance(found, Exception):
        raise found
    return found


async def _load(database_url: str, count: int) -> Load:
    load = Load(issues=count, units=max(1, count // 100))
    with tempfile.TemporaryDirectory(prefix="chuangwen-pipeline-") as tmp:
        root = Path(tmp)
        port = embedded.free_port()
        server = embedded.start_nats(port, root / "nats", root / "nats.log")
        nats_url = f"nats://127.0.0.1:{port}"
        services: Services | None = None
        try:
            services = Services(nats_url, await _fresh_database(database_url), root)
            await services.start()
            load.rss_ready_mb = services.sample()
            sampler = asyncio.create_task(_sample_every(services, 0.2))
            try:
                await _drive(services, nats_url, services.env["DATABASE_URL"], load)
            finally:
                sampler.cancel()
            services.stop()
            raw_count = min(RAW_MESSAGES, len(load.shown.e2e_ms))
            load.raw_ms = await _raw(nats_url, raw_count, load.shown.reached)
        except BaseException:
            if services is not None:
                for s in services.procs:
                    print(f"--- {s} log (tail) ---\n{services.tail(s)}", file=sys.stderr)
            raise
        finally:
            if services:
                services.stop()
            embedded.stop(server)
    return load


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p99, max."""
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[98], max(values)


def _phase_figures(name: str, phase: Phase) -> dict[str, float | int | str]:
    e2e, http = _quantiles(phase.e2e_ms), _quantiles(phase.http_ms)
    return {
        f"{name}_rectifications": len(phase.e2e_ms),
        f"{name}_rate_asked_per_s": phase.asked,
        f"{name}_rate_reached_per_s": phase.reached,
        f"{name}_p50_ms": e2e[0],
        f"{name}_p99_ms": e2e[1],
        f"{name}_max_ms": e2e[2],
        f"{name}_http_p50_ms": http[0],
        f"{name}_http_p99_ms": http[1],
        f"{name}_reflected_before_2xx_read": phase.early,
    }


async def e2e_rectification_latency(nats_url: str, database_url: str, count: int) -> Result:
    load = await run_load(database_url, count)
    first, shown = load.phases
    ours, raw = _quantiles(shown.e2e_ms), _quantiles(load.raw_ms)
    kept = all(p.reached >= 0.95 * RATE for p in load.phases)
    p99s = [_quantiles(p.e2e_ms)[1] for p in load.phases]
    figures: dict[str, float | int | str] = {"issues": load.issues, "units": load.units}
    figures |= _phase_figures("issue_pace", first) | _phase_figures("sustained", shown)
    figures |= {"raw_messages": len(load.raw_ms), "raw_p50_ms": raw[0], "raw_p99_ms": raw[1]}
    figures |= {"raw_max_ms": raw[2]}
    figures |= {"rates_rectified": load.rated, "report_rate_per_s": load.report_rate}
    notes = (
        f"asked {RATE:,.0f}/s: reached {first.reached:,.0f}/s, p99 {p99s[0]:,.0f} ms"
        + ("" if kept else " (the machine did not keep the issue's pace: target not shown)"),
        f"then at {shown.asked:,.0f}/s: reached {shown.reached:,.0f}/s, p50 {ours[0]:.1f} / p99"
        f" {ours[1]:.1f} / max {ours[2]:.1f} ms from the 2xx (the row shows this pace)",
        f"raw: nats-py publish → pull consumer, same payload, {shown.reached:,.0f}/s; p50"
        f" {raw[0]:.1f} / p99 {raw[1]:.1f} ms. GET /v1/rates counted {load.rated:,} rectified",
    )
    return Result(
        "e2e_rectification_latency",
        ours[1] / 1000,
        raw[1] / 1000,
        target=math.inf,
        notes=notes,
        what=f"{load.issues:,} rectifications over HTTP, 2xx → ranking's projection; 4 service"
        " processes",
        figures=figures,
        headline=Headline(ours[1], raw[1], f"ms p99 at {shown.reached:,.0f}/s"),
        goal=f"p99 < {P99_TARGET_MS:.0f} ms at {RATE:,.0f}/s",
        met=kept and max(p99s) < P99_TARGET_MS and load.rated == load.issues,
    )


async def peak_rss_per_service(nats_url: str, database_url: str, count: int) -> Result:
    load = await run_load(database_url, count)
    peak = load.rss_peak_mb
    figures: dict[str, float | int | str] = {"issues": load.issues, "ceiling_mb": RSS_CEILING_MB}
    for s in SERVICES:
        figures[f"{s}_ready_mb"] = load.rss_ready_mb.get(s, math.nan)
        figures[f"{s}_peak_mb"] = peak[s]
    top = max(peak.values())
    shown = ", ".join(f"{s} {peak[s]:.0f}" for s in SERVICES)
    return Result(
        "peak_rss_per_service",
        top,
        RSS_CEILING_MB,
        target=1.0,
        notes=(f"peak RSS MB: {shown} (no target in the issue; ceiling {RSS_CEILING_MB:.0f})",),
        what=f"peak RSS of each service through the pipeline run ({load.issues:,} issues"
        " reported, then rectified)",
        figures=figures,
        headline=Headline(top, None, "MB (largest)"),
        goal=f"each < {RSS_CEILING_MB:.0f} MB (a ceiling: no target in the issue)",
        met=top < RSS_CEILING_MB,
    )


BENCHMARKS: tuple[Bench, ...] = (e2e_rectification_latency, peak_rss_per_service)
