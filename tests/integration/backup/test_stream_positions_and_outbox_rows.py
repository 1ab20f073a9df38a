"""Backup and restore keep stream positions exactly (issue 7, Operations): a first sequence
above 1, a deleted sequence and an emptied stream's last sequence come back as they were, and
outbox rows the dump holds as unpublished are reconciled with the restored stream."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import nats
import psycopg
import pytest
from nats.js.api import StorageType, StreamConfig

from services.contracts.streams import DLQ, DUPLICATE_WINDOW_SECONDS, ISSUES, MAX_PAYLOAD_BYTES
from services.runtime.migrations import COMMON
from tests.conftest import Servers, _fresh_database
from tests.integration.backup.support import messages
from tools.backup.cli import main
from tools.backup.manifest import verify_backup

pytestmark = pytest.mark.integration


async def test_first_sequence_gaps_and_outbox_rows_published_during_the_backup(
    servers: Servers, source: Servers, second_postgres: str, empty_nats: str, tmp_path: Path
) -> None:
    """A stream whose first sequence is > 1 and that has a deleted sequence comes back exactly;
    an outbox row the dump holds as unpublished whose event reached the stream is marked
    published with its sequence; one that did not reach the stream stays for the relay."""
    async with await psycopg.AsyncConnection.connect(source.database_url) as conn:
        await conn.execute("CREATE SCHEMA issues")
        await conn.execute("SET search_path TO issues")
        await conn.execute(COMMON.read_text())
        await conn.commit()
    nc = await nats.connect(source.nats_url)
    ids = [str(uuid.uuid4()) for _ in range(10)]
    try:
        js = nc.jetstream()
        await js.add_stream(
            StreamConfig(
                name=ISSUES.name,
                subjects=list(ISSUES.subjects),
                storage=StorageType.FILE,
                max_msg_size=MAX_PAYLOAD_BYTES,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )
        )
        for n, msg_id in enumerate(ids):
            subject = "units.v1.unit_registered" if n % 3 else "issues.v1.issue_reported"
            body = f'{{"n": {n}}}'.encode() if n != 5 else b""
            await js.publish(subject, body, headers={"Nats-Msg-Id": msg_id, "X-N": str(n)})
        await js.purge_stream(ISSUES.name, seq=4)  # sequences 1-3 are gone: first is 4
        await js.delete_msg(ISSUES.name, 7)
        state = (await js.stream_info(ISSUES.name)).state
        assert (state.first_seq, state.last_seq, state.num_deleted) == (4, 10, 1)
        # A stream emptied by a purge keeps its last sequence: the next message is #4.
        await js.add_stream(name=DLQ.name, subjects=list(DLQ.subjects))
        for n in range(3):
            await js.publish("dlq.ranking", f"{n}".encode())
        await js.purge_stream(DLQ.name)
    finally:
        await nc.drain()
    on_stream, never_sent = ids[8], str(uuid.uuid4())
    async with await psycopg.AsyncConnection.connect(source.database_url) as conn:
        for event_id in (on_stream, never_sent):
            await conn.execute(
                "INSERT INTO issues.outbox (event_id, subject, payload) VALUES (%s, %s, %s)",
                (event_id, "units.v1.unit_registered", b"{}"),
            )
        await conn.commit()

    folder = tmp_path / "backup"
    args = ["--nats-url", source.nats_url, "--database-url", source.database_url]
    assert await asyncio.to_thread(main, ["create", str(folder), *args]) == 0
    manifest = verify_backup(folder)
    assert [p.name for p in manifest.streams] == [ISSUES.name, DLQ.name]
    assert manifest.streams[0].state["first_seq"] == 4
    target_db = _fresh_database(Servers("", second_postgres, tmp_path), "restored")
    args = ["--nats-url", empty_nats, "--database-url", target_db]
    assert await asyncio.to_thread(main, ["restore", str(folder), *args]) == 0

    ours = await messages(empty_nats, ISSUES.name, 1, 11)
    assert ours == await messages(source.nats_url, ISSUES.name, 1, 11)
    assert [m[0] for m in ours if m[1] is not None] == [4, 5, 6, 8, 9, 10]
    assert ours[5][:4] == (6, "units.v1.unit_registered", {"Nats-Msg-Id": ids[5], "X-N": "5"}, b"")
    assert ours[8][2] == {"Nats-Msg-Id": ids[8], "X-N": "8"}
    nc = await nats.connect(empty_nats)
    try:
        ack = await nc.jetstream().publish("dlq.ranking", b"after the restore")
        assert (ack.stream, ack.seq) == (DLQ.name, 4)
    finally:
        await nc.drain()
    async with await psycopg.AsyncConnection.connect(target_db) as conn:
        cur = await conn.execute(
            "SELECT event_id::text, stream_seq, published_at IS NOT NULL FROM issues.outbox"
        )
        rows = {row[0]: (row[1], row[2]) for row in await cur.fetchall()}
    assert rows == {on_stream: (9, True), never_sent: (None, False)}
