"""Outbox rows that reached a stream during the backup: unpublished in the dump, but their
event is on the restored stream, so ``restore`` marks them published as the relay would have."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import psycopg
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from psycopg import sql

from services.contracts.streams import stream_for_subject
from tools.backup.jetstream import API_TIMEOUT
from tools.backup.manifest import Manifest
from tools.backup.postgres import SCHEMAS

# Outbox rows published during the backup carry NATS server timestamps; allow for clock skew.
CLOCK_MARGIN = timedelta(minutes=5)


async def _msg_ids_since(
    nc: NATS, stream: str, since: datetime, last_seq: int
) -> AsyncIterator[tuple[str, int]]:
    """(Nats-Msg-Id, sequence) of the messages of ``stream`` stored since ``since`` (headers
    only, an ephemeral consumer that needs no acks)."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(
        ">",
        stream=stream,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
            ack_policy=AckPolicy.NONE,
            headers_only=True,
            inactive_threshold=60.0,
        ),
    )
    try:
        pending = (await sub.consumer_info()).num_pending or 0
        while pending > 0:
            batch = await sub.fetch(min(pending, 1000), timeout=API_TIMEOUT)
            for msg in batch:
                pending -= 1
                seq = msg.metadata.sequence.stream
                msg_id = (msg.headers or {}).get("Nats-Msg-Id")
                if msg_id and seq <= last_seq:
                    yield msg_id, seq
    finally:
        await sub.unsubscribe()


async def reconcile_outboxes(nc: NATS, url: str, manifest: Manifest) -> int:
    """Mark published (with its sequence) every unpublished outbox row of the dump whose event
    is on its restored stream, so that the relay does not publish it a second time."""
    pending: dict[str, tuple[str, str]] = {}  # event id -> (schema, stream)
    streams = {part.name: part for part in manifest.streams}
    async with await psycopg.AsyncConnection.connect(url) as conn:
        for schema in SCHEMAS:
            cur = await conn.execute("SELECT to_regclass(%s)", (f"{schema}.outbox",))
            found = await cur.fetchone()
            if not found or found[0] is None:
                continue
            cur = await conn.execute(
                sql.SQL(
                    "SELECT event_id, subject FROM {}.outbox WHERE published_at IS NULL"
                ).format(sql.Identifier(schema))
            )
            for event_id, subject in await cur.fetchall():
                try:
                    stream = stream_for_subject(subject).name
                except KeyError:
                    continue
                if stream in streams:
                    pending[str(event_id)] = (schema, stream)
        if not pending:
            return 0
        since = manifest.postgres.started_at - CLOCK_MARGIN
        on_stream: dict[str, int] = {}
        for name in sorted({stream for _, stream in pending.values()}):
            last = int(streams[name].state.get("last_seq", 0))
            async for msg_id, seq in _msg_ids_since(nc, name, since, last):
                if msg_id in pending:
                    on_stream[msg_id] = seq
        async with conn.transaction():
            for event_id, seq in on_stream.items():
                schema = pending[event_id][0]
                await conn.execute(
                    sql.SQL(
                        "UPDATE {}.outbox SET published_at = now(), stream_seq = %s"
                        " WHERE event_id = %s AND published_at IS NULL"
                    ).format(sql.Identifier(schema)),
                    (seq, event_id),
                )
    return len(on_stream)
