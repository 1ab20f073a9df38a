"""The pipeline benchmarks' load run (see bench/pipeline.py): units registered and issues
reported over HTTP, rectifications at a paced rate timed until ranking's projection reflects
them, the raw nats-py baseline, and each service's memory; run once per database and size."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import nats
import nats.errors
import psycopg

from bench._events import synthetic_events
from bench._pacing import IN_FLIGHT, closed_loop, paced
from bench._ranking_watch import caught_up, install_notices, until, watch
from bench._stack import Services, fresh_database, sample_every
from services.runtime import embedded

MAX_ISSUES = 1_000
RATE = 1000.0  # events per second asked for (the issue's load)
SUSTAINED = 0.5  # of the best rate reached, when the machine cannot keep the issue's
# Rectifications per second over HTTP beside the synthetic events, at most: the rest of the
# 1,000 events/s the issue names on the bus is synthetic, in the same share in every run and on
# every machine (half the best HTTP rate moved with the noise of the first phase, 41-140/s).
PROBE_RATE = 50.0
RAW_MESSAGES = 300
RAW_MESSAGES_MAX = 3_000
CLIENTS = 20
TICK = 0.002  # seconds between two sends of the events beside
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


@dataclass
class Phase:
    """Rectifications sent at one pace, and what each one took."""

    asked: float  # per second
    reached: float = 0.0  # sent / (first send .. last 2xx)
    e2e_ms: list[float] = field(default_factory=list)  # 2xx -> reflected (0 if it was first)
    http_ms: list[float] = field(default_factory=list)
    early: int = 0  # reflected before the client had read the 2xx
    beside: float = 0.0  # synthetic issue events per second asked for on ISSUES meanwhile
    beside_sent: int = 0
    beside_reached: float = 0.0  # per second, over the phase
    beside_ack_ms: list[float] = field(default_factory=list)  # each one's publish -> JetStream ack

    @property
    def events_per_s(self) -> float:
        """What the pipeline carried: the rectifications over HTTP and the events beside them."""
        return self.reached + self.beside_reached


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


_runs: dict[tuple[str, int, bool], Load | Exception] = {}
SYNC_ALWAYS = "sync_interval: always"


async def _post(client: aiohttp.ClientSession, path: str, token: str, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with client.post(path, json=body, headers=headers) as response:
        if response.status >= 300:
            text = await response.text()
            raise RuntimeError(f"POST {path}: {response.status} {text[:300]}")
        return await response.json()


def _client(base_url: str) -> aiohttp.ClientSession:
    """Fresh connections for each phase, never kept idle for 2 s: uvicorn closes those idle for
    5 s, and reusing one just as it closes fails the request (seen at ~30 requests/s over up to
    100 connections, each idle for seconds between two uses). aiohttp, not httpx: httpx took
    2.3 ms of CPU per request on this machine, aiohttp 0.22 ms, from the services' two cores."""
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT, keepalive_timeout=2.0)
    timeout = aiohttp.ClientTimeout(total=60)
    return aiohttp.ClientSession(base_url, connector=connector, timeout=timeout)


async def _beside(
    nats_url: str, phase: Phase, events: list[tuple[str, bytes, str]], stop: asyncio.Event
) -> None:
    """Publish ``events`` to ISSUES at ``phase.beside`` per second (open loop, at most
    ``IN_FLIGHT`` unacknowledged) until ``stop``, then wait until every one is acknowledged:
    the rest of the issue's 1,000 events/s, as other reports and rectifications would bring
    them through the issues service's relay. What is due is sent every ``TICK``.

    The load's own CPU is taken from the same two cores as the services', so it is sent as
    cheaply as JetStream allows: each a core publish with a reply subject (JetStream acks it
    there, as it acks the relay's publishes), all the acks counted by one subscription. nats-py's
    ``publish_async`` (a future and an inbox entry per message) cost 165 µs of CPU per message
    on this machine, this 19 µs: at 950 messages/s, 0.14 of a core handed back to the services.
    Each one's time from the publish call to its ack's callback is kept: mostly the time ISSUES
    takes to store (and fsync) a message under the load, which every event on its way to ranking
    takes too, plus the client's buffering and this process's own waits for a CPU.
    """
    nc = await nats.connect(nats_url)
    inbox = nc.new_inbox()
    acked = 0
    refused: list[bytes] = []
    progress = asyncio.Event()
    sent_at: list[float] = [0.0] * len(events)

    async def on_ack(msg: Any) -> None:
        nonlocal acked
        acked += 1
        index = int(msg.subject.rsplit(".", 1)[1])
        phase.beside_ack_ms.append((time.perf_counter() - sent_at[index]) * 1000)
        if b'"error"' in msg.data:  # JetStream's answer to a publish it did not store
            refused.append(msg.data)
        progress.set()

    await nc.subscribe(f"{inbox}.*", cb=on_ack)
    sent = 0
    started = time.perf_counter()
    try:
        while not stop.is_set():
            due = int((time.perf_counter() - started) * phase.beside) + 1
            if due > len(events):
                raise RuntimeError("the events made for beside the rectifications ran out")
            while sent < due:
                if sent - acked >= IN_FLIGHT:
                    progress.clear()
                    await asyncio.wait_for(progress.wait(), 30)
                    continue
                subject, data, msg_id = events[sent]
                headers = {"Nats-Msg-Id": msg_id}
                sent_at[sent] = time.perf_counter()
                await nc.publish(subject, data, reply=f"{inbox}.{sent}", headers=headers)
                sent += 1
            await asyncio.sleep(TICK)
        deadline = time.monotonic() + 30
        while acked < sent:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{sent - acked} events beside were never acknowledged")
            progress.clear()
            await asyncio.wait_for(progress.wait(), 30)
        if refused:
            raise RuntimeError(f"{len(refused)} events beside refused: {refused[0][:200]!r}")
    finally:
        phase.beside_sent = sent
        phase.beside_reached = sent / (time.perf_counter() - started)
        await nc.drain()


async def _rectify(
    url: str,
    db: psycopg.AsyncConnection[Any],
    todo: list[tuple[str, str]],
    rate: float,
    beside: tuple[str, float] | None = None,
) -> Phase:
    """Rectify each (issue, unit) of ``todo`` at ``rate``; the time from 2xx to projection.
    ``beside`` (NATS URL, events/s): synthetic issue events published to ISSUES meanwhile."""
    phase = Phase(asked=rate, http_ms=[0.0] * len(todo))
    events: list[tuple[str, bytes, str]] = []
    if beside is not None:
        phase.beside = beside[1]
        # Made before the phase (twice what it should need), so their cost is not timed.
        expected = len(todo) / rate * phase.beside
        events = list(synthetic_events(int(2 * expected) + 1000, "bench-bg", seed=len(todo)))
    client = _client(url)
    answered = [0.0] * len(todo)

    async def rectify(i: int) -> None:
        issue, unit = todo[i]
        started = time.perf_counter()
        await _post(client, f"/v1/issues/{issue}/rectification", f"dev-unit-{unit}", EVIDENCE)
        answered[i] = time.perf_counter()
        phase.http_ms[i] = (answered[i] - started) * 1000

    seen: dict[str, float] = {}
    stop, sent = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(watch(db, "rectified", seen, stop))
    background = None
    if beside is not None:
        background = asyncio.create_task(_beside(beside[0], phase, events, sent))
    try:
        async with client:
            phase.reached = len(todo) / await paced(len(todo), rate, rectify)
        sent.set()
        if background is not None:
            await background
        wanted = {issue for issue, _ in todo}
        await until(lambda: wanted <= seen.keys(), 120, "rectifications reflected", watcher)
    finally:
        sent.set()
        stop.set()
        await watcher
        if background is not None and not background.done():
            background.cancel()
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

        await closed_loop(len(units), CLIENTS, register)
        load.report_rate = count / await closed_loop(count, CLIENTS, report)
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as db:
        await install_notices(db)
        await caught_up(nats_url, db, count)
        first = await _rectify(url, db, reported[: count // 4], RATE)
        # The issue's pace again if the machine kept it; else one it sustains, below its best,
        # and at most PROBE_RATE, so that the loaded phase has the same share over HTTP.
        kept = first.reached >= 0.95 * RATE
        then = RATE if kept else min(PROBE_RATE, SUSTAINED * first.reached)
        second = await _rectify(url, db, reported[count // 4 : count // 2], then)
        # That pace again, with synthetic issue events beside it making up the issue's
        # 1,000 events/s on ISSUES (nothing beside if HTTP alone kept it).
        loaded = await _rectify(
            url, db, reported[count // 2 :], then, beside=(nats_url, max(0.0, RATE - then))
        )
        load.phases = [first, second, loaded]
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
    await paced(count, rate, publish)
    await asyncio.wait_for(consumer, 60)
    await nc.drain()
    return [(g - s) * 1000 for s, g in zip(sent, got, strict=True)]


async def run_load(database_url: str, count: int, sync_always: bool = True) -> Load:
    """The load run, once per database, size and NATS configuration (a failure too is
    remembered, not retried). ``sync_always=False``: a diagnostic run on the same configuration
    but for JetStream's default sync (every 2 minutes, which Chuangwen never runs on), to show
    what the fsync of every message costs the latency."""
    key = (database_url, min(count, MAX_ISSUES), sync_always)
    if key not in _runs:
        try:
            _runs[key] = await _load(database_url, key[1], sync_always)
        except Exception as exc:
            _runs[key] = exc
    found = _runs[key]
    if isinstance(found, Exception):
        raise found
    return found


def _default_sync_config(root: Path) -> Path:
    """The embedded NATS configuration without its ``sync_interval: always``."""
    ours = embedded.NATS_CONFIG.read_text(encoding="utf-8")
    lines = [line for line in ours.splitlines() if line.strip() != SYNC_ALWAYS]
    if len(lines) == len(ours.splitlines()):
        raise RuntimeError(f"{embedded.NATS_CONFIG} no longer says {SYNC_ALWAYS!r}")
    path = root / "nats-default-sync.conf"
    header = f"# Diagnostic only (bench/_pipeline_load.py): {embedded.NATS_CONFIG.name} without"
    header += f" its {SYNC_ALWAYS!r}; its comments are the original's.\n"
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _load(database_url: str, count: int, sync_always: bool) -> Load:
    load = Load(issues=count, units=max(1, count // 100))
    with tempfile.TemporaryDirectory(prefix="chuangwen-pipeline-") as tmp:
        root = Path(tmp)
        port = embedded.free_port()
        config = embedded.NATS_CONFIG if sync_always else _default_sync_config(root)
        server = embedded.start_nats(port, root / "nats", root / "nats.log", config=config)
        nats_url = f"nats://127.0.0.1:{port}"
        services: Services | None = None
        try:
            services = Services(nats_url, await fresh_database(database_url), root)
            await services.start()
            load.rss_ready_mb = services.sample()
            sampler = asyncio.create_task(sample_every(services, 0.2))
            try:
                await _drive(services, nats_url, services.env["DATABASE_URL"], load)
            finally:
                sampler.cancel()
            services.stop()
            # At the rate the shown phase carried in all (HTTP and beside), for 2 s at least.
            rate = load.shown.events_per_s
            raw_count = max(RAW_MESSAGES, min(RAW_MESSAGES_MAX, int(2 * rate)))
            load.raw_ms = await _raw(nats_url, raw_count, rate)
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
