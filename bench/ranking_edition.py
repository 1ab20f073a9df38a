"""Ranking benchmarks (issue 4), sized by ``--messages`` (N issue events, N/100 units).

- ``ranking_consume_issues``: the ranking service consumes N ``issues.v1.reported`` events (its
  pull consumer, the failure policy, one transaction per event with the processed id and the
  input position) vs a bare nats-py pull subscription that fetches 100 at a time and acks.
  Target: ours at least 50% of the raw rate, i.e. a time ratio of at most 2.
- ``ranking_publish_edition``: one edition over that projection (load facts, compute, store,
  stage). Target under 1 s: reported against a fixed 1 s "raw".
- ``ranking_rebuild``: drop the schema, replay the N events, recompute the edition and compare,
  vs the bare fetch of the same stream (no target in the issue: reported, ceiling 100).

The issue asks for 10,000 units and 1,000,000 issues; pass ``--messages 1000000`` on a machine
that can hold that (it is slow to seed on 2 cores).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from bench.result import Bench, Result
from services.contracts import issues as iw
from services.contracts.base import to_wire
from services.contracts.units import UnitRegistered
from services.ranking.app import build
from services.ranking.rebuild import rebuild
from services.ranking.rule_book import load_rule_book
from services.ranking.settings import RankingSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2018, 3, 1, 9, tzinfo=SHANGHAI)
CUTOFF = datetime(2018, 6, 4, tzinfo=SHANGHAI)
_state: dict[str, float] = {}


def _settings(nats_url: str, database_url: str) -> RankingSettings:
    return RankingSettings(
        nats_url=nats_url,
        database_url=database_url,
        auth_mode="dev",
        log_level="WARNING",
        schedule_enabled=False,
    )


def _events(count: int) -> list[tuple[str, bytes, str]]:
    units = [f"bench-u{i:05d}" for i in range(max(1, count // 100))]
    out = []
    for i, unit_id in enumerate(units):
        e = UnitRegistered(
            event_id=uuid.uuid4(),
            occurred_at=START,
            producer="bench",
            aggregate_id=unit_id,
            aggregate_version=1,
            unit_id=unit_id,
            name=f"单位{i}",
            category=("department", "district", "town")[i % 3],
        )
        out.append((e.SUBJECT, to_wire(e), str(e.event_id)))
    for n in range(count):
        issue_id = uuid.uuid4()
        when = START + timedelta(minutes=n % 100_000)
        r = iw.IssueReported(
            event_id=uuid.uuid4(),
            occurred_at=when,
            producer="bench",
            aggregate_id=str(issue_id),
            aggregate_version=1,
            issue_id=issue_id,
            number=f"JM-2018-{n:07d}",
            unit_id=units[n % len(units)],
            category="暴露垃圾",
            point_type="community",
            description="小区门口垃圾未清理",
            location=iw.Location(address="江门市"),
            found_at=when,
            reported_at=when,
            deadline=when + timedelta(days=3),
            inspector="张三",
            team="第一督查组",
        )
        out.append((r.SUBJECT, to_wire(r), str(r.event_id)))
    return out


async def ranking_consume_issues(nats_url: str, database_url: str, count: int) -> Result:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    app, runtime = build(_settings(nats_url, database_url))
    await runtime.start()  # provisions the streams; the consumer starts on an empty stream
    await runtime.stop()
    events = _events(count)
    last = 0
    for start in range(0, len(events), 500):
        chunk = events[start : start + 500]
        acks = await asyncio.gather(
            *(js.publish(s, d, headers={"Nats-Msg-Id": i}) for s, d, i in chunk)
        )
        last = max(last, *(a.seq for a in acks))

    sub = await js.pull_subscribe(
        ">",
        stream="ISSUES",
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT),
    )
    started = time.perf_counter()
    seen = 0
    while seen < len(events):
        for msg in await sub.fetch(100, timeout=5):
            await msg.ack()
            seen += 1
    raw = time.perf_counter() - started
    await sub.unsubscribe()
    _state["raw_fetch"] = raw

    app, runtime = build(_settings(nats_url, database_url))
    started = time.perf_counter()
    await runtime.start()
    try:
        while True:
            async with runtime.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT watermark FROM input_positions WHERE stream = 'ISSUES'"
                )
                row = await cur.fetchone()
            if row is not None and row["watermark"] >= last:
                break
            await asyncio.sleep(0.05)
        ours = time.perf_counter() - started
        editions = app.state.editions
        started = time.perf_counter()
        edition = await editions.publish(CUTOFF)
        _state["publish"] = time.perf_counter() - started
        ranked = sum(len(c["rows"]) for c in edition["categories"].values())
        while True:  # the rebuild benchmark recomputes this edition from the RANKING stream
            async with runtime.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"
                )
                row = await cur.fetchone()
            if row is not None and row["n"] == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        await runtime.stop()
        await nc.drain()
    note = f"{len(events)} events; {len(events) / ours:.0f}/s ours, {len(events) / raw:.0f}/s raw"
    _state["ranked"] = ranked
    return Result("ranking_consume_issues", ours, raw, target=2.0, notes=(note,))


async def ranking_publish_edition(nats_url: str, database_url: str, count: int) -> Result:
    seconds = _state.get("publish")
    if seconds is None:  # run alone: it needs the projection the consumer benchmark built
        await ranking_consume_issues(nats_url, database_url, count)
        seconds = _state["publish"]
    note = f"{int(_state['ranked'])} ranked units, {count} issues; target: under 1 s"
    return Result("ranking_publish_edition", seconds, 1.0, target=1.0, notes=(note,))


async def ranking_rebuild(nats_url: str, database_url: str, count: int) -> Result:
    if "raw_fetch" not in _state:
        await ranking_consume_issues(nats_url, database_url, count)
    settings = _settings(nats_url, database_url)
    started = time.perf_counter()
    report = await rebuild(settings, load_rule_book(settings.rules_file))
    ours = time.perf_counter() - started
    note = (
        f"replayed {report.replayed}, {report.editions} editions, {len(report.differences)} diffs"
    )
    return Result("ranking_rebuild", ours, _state["raw_fetch"], target=100.0, notes=(note,))


BENCHMARKS: tuple[Bench, ...] = (ranking_consume_issues, ranking_publish_edition, ranking_rebuild)
