"""Messaging benchmarks: the outbox relay and the idempotent consumer against bare nats-py.

- ``outbox_publish``: N events staged in the outbox and published by the relay (a database
  round trip per batch, JetStream ack per message) vs N ``js.publish`` calls.
- ``consume_apply_once``: N events consumed by a FastStream pull consumer (batches of 100, the
  dead-letter middleware) and applied once each in PostgreSQL (processed id + state in one
  transaction) vs a bare pull subscription that fetches 100 at a time and, for each message,
  writes the same row in its own transaction with bare psycopg and acks: the ratio is the cost
  of FastStream, the failure policy and exactly-once bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats
import nats.js.errors
import psycopg
from faststream.nats import NatsMessage

from bench.result import Bench, Result, rates
from services.contracts.assessments import AssessmentScored
from services.contracts.base import to_wire
from services.contracts.streams import ASSESSMENTS
from services.runtime.db import Conn
from services.runtime.outbox import stage
from services.runtime.service import ServiceRuntime
from services.runtime.settings import ServiceSettings


class BenchSettings(ServiceSettings):
    pass


def _event(i: int, unit: str) -> AssessmentScored:
    return AssessmentScored(
        event_id=uuid.uuid4(),
        occurred_at=datetime(2018, 5, 1, tzinfo=UTC),
        producer="bench",
        aggregate_id=unit,
        aggregate_version=1,
        unit_id=unit,
        month="2018-04",
        score=f"{i % 100}.5",
        source="bench",
    )


def _runtime(nats_url: str, database_url: str, name: str) -> ServiceRuntime:
    settings = BenchSettings(
        nats_url=nats_url, database_url=database_url, log_level="WARNING", auth_mode="dev"
    )
    return ServiceRuntime(name, settings, Path(__file__).parent / "migrations", (ASSESSMENTS,))


async def outbox_publish(nats_url: str, database_url: str, count: int) -> Result:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    runtime = _runtime(nats_url, database_url, "bench_outbox")
    runtime.bus.publisher(AssessmentScored)
    await runtime.start()
    try:
        raw_events = [_event(i, "bench-raw") for i in range(count)]
        started = time.perf_counter()
        for e in raw_events:
            await js.publish(e.SUBJECT, to_wire(e), headers={"Nats-Msg-Id": str(e.event_id)})
        raw = time.perf_counter() - started

        started = time.perf_counter()
        async with runtime.transaction() as conn:  # wakes the service's own relay on commit
            await stage(conn, [_event(i, "bench-outbox") for i in range(count)])
        while True:
            async with runtime.pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL"
                )
                row = await cur.fetchone()
            if row is not None and row["n"] == 0:
                break
            await asyncio.sleep(0.01)
        ours = time.perf_counter() - started
    finally:
        await runtime.stop()
        await nc.drain()
    return Result(
        "outbox_publish",
        ours,
        raw,
        target=3.0,
        what=f"{count:,} events staged in the outbox and published by the relay vs js.publish",
        figures=_figures(count, ours, raw),
        headline=rates(count, ours, raw, "ev/s"),
        goal="≥ 33% of the raw rate (time ≤ 3× raw)",
    )


async def consume_apply_once(nats_url: str, database_url: str, count: int) -> Result:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    unit = f"bench-{uuid.uuid4().hex[:6]}"
    events = [_event(i, unit) for i in range(count)]
    # Run alone, nothing has provisioned the stream yet; otherwise it exists.
    with contextlib.suppress(nats.js.errors.BadRequestError):
        await js.add_stream(name=ASSESSMENTS.name, subjects=list(ASSESSMENTS.subjects))
    for e in events:
        await js.publish(e.SUBJECT, to_wire(e), headers={"Nats-Msg-Id": str(e.event_id)})

    sub = await js.pull_subscribe(
        AssessmentScored.SUBJECT, durable=f"raw-{unit}", stream=ASSESSMENTS.name
    )
    db = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await db.execute("CREATE TABLE IF NOT EXISTS public.bench_raw (unit_id text, score text)")
    started = time.perf_counter()
    seen = 0
    while seen < count:
        for msg in await sub.fetch(100, timeout=5):
            body = AssessmentScored.model_validate_json(msg.data)
            async with db.transaction():
                await db.execute(
                    "INSERT INTO public.bench_raw (unit_id, score) VALUES (%s, %s)",
                    (body.unit_id, body.score),
                )
            await msg.ack()
            seen += 1
    raw = time.perf_counter() - started
    await db.close()
    await nc.drain()

    runtime = _runtime(nats_url, database_url, f"bench_{unit.replace('-', '_')}")
    done = asyncio.Event()
    applied = 0

    async def handle(event: AssessmentScored, msg: NatsMessage) -> None:
        nonlocal applied

        async def apply(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO scores (unit_id, score) VALUES (%s, %s)", (event.unit_id, event.score)
            )

        await runtime.apply_once("bench", event, msg, apply)
        applied += 1
        if applied >= count:
            done.set()

    runtime.bus.subscriber(AssessmentScored)(handle)
    started = time.perf_counter()
    await runtime.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=600)
        ours = time.perf_counter() - started
    finally:
        await runtime.stop()
    return Result(
        "consume_apply_once",
        ours,
        raw,
        target=3.0,
        what=f"{count:,} events consumed and applied once vs bare fetch + insert + ack",
        figures=_figures(count, ours, raw),
        headline=rates(count, ours, raw, "ev/s"),
        goal="≥ 33% of the raw rate (time ≤ 3× raw)",
    )


def _figures(count: int, ours: float, raw: float) -> dict[str, float | int | str]:
    return {
        "events": count,
        "ours_seconds": ours,
        "raw_seconds": raw,
        "ours_events_per_s": count / ours,
        "raw_events_per_s": count / raw,
    }


BENCHMARKS: tuple[Bench, ...] = (
    outbox_publish,
    consume_apply_once,
)
