"""Backup and restore (issue 7, Operations): ``python -m tools.backup create`` of a running
system, ``restore`` into servers of their own that start empty, then the rebuilds.

The restored streams hold every message at its original sequence with its subject, headers,
data and timestamp; the restored database holds the same editions and ledger, row for row;
ranking's rebuild recomputes every edition at its recorded input positions from the restored
streams and incentives' rebuild settles the same ledger again (both exit 0); the services
started on the restored servers double nothing although their durables deliver every stream
again from its start (the snapshots carry no consumers).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats
import psycopg
import pytest
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError
from psycopg import sql

from services.contracts.streams import DLQ, DUPLICATE_WINDOW_SECONDS, ISSUES, MAX_PAYLOAD_BYTES
from services.runtime import embedded
from services.runtime.migrations import COMMON
from tests.conftest import Servers, _fresh_database
from tests.e2e.stack import ROOT, Receiver, Stack
from tools import backup

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
OFFICE = {"Authorization": "Bearer dev-office"}
VIEWER = {"Authorization": "Bearer dev-viewer"}
# (unit_id, category): three districts and four departments, so both lists are paid (R6.3).
UNITS = [
    ("bk-dist-a", "district"),
    ("bk-dist-b", "district"),
    ("bk-dist-c", "district"),
    ("bk-dept-1", "department"),
    ("bk-dept-2", "department"),
    ("bk-dept-3", "department"),
    ("bk-dept-4", "department"),
]
# Per round and unit: (issues reported, open issues rectified); different rates every week.
ROUNDS = [
    [(2, 2), (2, 1), (2, 0), (3, 3), (3, 2), (3, 1), (3, 0)],
    [(1, 1), (1, 0), (1, 2), (1, 0), (1, 1), (1, 3), (1, 1)],
    [(0, 0), (0, 2), (0, 1), (0, 1), (0, 1), (0, 0), (0, 3)],
]
# Compared whole, every column: the editions as published and the money.
TABLES = (
    ("ranking", "editions"),
    ("ranking", "edition_units"),
    ("incentives", "funds"),
    ("incentives", "settled_revisions"),
    ("incentives", "ledger_entries"),
)


@dataclass(frozen=True)
class Target:
    """Servers of their own for the restore: a NATS server and a database, both empty."""

    nats_url: str
    database_url: str


@pytest.fixture(scope="module")
def second_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second PostgreSQL server (not the session's), on a free port; stopped at teardown."""
    root = tmp_path_factory.mktemp("restore-pg")
    port = embedded.free_port()
    proc = embedded.start_postgres(port, root / "pg", root / "postgres.log")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        embedded.stop(proc)


@pytest.fixture
def empty_nats(tmp_path: Path) -> Iterator[str]:
    port = embedded.free_port()
    proc = embedded.start_nats(port, tmp_path / "nats-target", tmp_path / "nats-target.log")
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        embedded.stop(proc)


@pytest.fixture
def source(servers: Servers, tmp_path: Path) -> Iterator[Servers]:
    """What is backed up: a NATS server of its own and a database on the session's PostgreSQL."""
    port = embedded.free_port()
    proc = embedded.start_nats(port, tmp_path / "nats-source", tmp_path / "nats-source.log")
    try:
        yield Servers(
            nats_url=f"nats://127.0.0.1:{port}",
            database_url=_fresh_database(servers, "backup_src"),
            root=tmp_path,
        )
    finally:
        embedded.stop(proc)


def run(module: str, *args: str, nats_url: str, database_url: str) -> tuple[int, str, float]:
    """``python -m module args`` against these servers: (exit code, output, seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("NATS_URL", "DATABASE_URL"))}
    env |= {"NATS_URL": nats_url, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


async def eventually(check: Any, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.3)


@dataclass
class Campaign:
    """Drives the running services through their HTTP APIs, as the office and units would."""

    stack: Stack
    client: httpx.AsyncClient
    open_issues: dict[str, list[str]]
    reported: int = 0
    rectified: int = 0

    async def post(self, service: str, path: str, body: dict[str, Any], **kw: Any) -> Any:
        response = await self.client.post(f"{self.stack.url(service)}{path}", json=body, **kw)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def register_units(self) -> None:
        for unit_id, category in UNITS:
            body = {"unit_id": unit_id, "name": f"单位{unit_id[-1]}", "category": category}
            await self.post("issues", "/v1/units", body, headers=OFFICE)
            self.open_issues[unit_id] = []

    async def week(self, plan: list[tuple[int, int]]) -> dict[str, Any]:
        """Report and rectify as planned, wait for ranking's projection, publish an edition."""
        for (unit_id, _), (reports, fixes) in zip(UNITS, plan, strict=True):
            for _ in range(reports):
                issue = await self.post(
                    "issues",
                    "/v1/issues",
                    {
                        "unit_id": unit_id,
                        "category": "暴露垃圾",
                        "point_type": "community",
                        "description": "小区门口垃圾未清理",
                        "location": {"address": "江门市蓬江区"},
                        "found_at": datetime.now(UTC).isoformat(),
                        "inspector": "张三",
                        "team": "第一督查组",
                    },
                    headers=OFFICE,
                )
                self.open_issues[unit_id].append(issue["issue_id"])
                self.reported += 1
            for _ in range(fixes):
                issue_id = self.open_issues[unit_id].pop(0)
                await self.post(
                    "issues",
                    f"/v1/issues/{issue_id}/rectification",
                    {"evidence": ["https://photos.example/fixed.jpg"]},
                    headers={"Authorization": f"Bearer dev-unit-{unit_id}"},
                )
                self.rectified += 1
        cutoff = datetime.now(UTC)
        await asyncio.sleep(0.05)  # the cutoff must have passed (R4.1)

        async def projected() -> bool:
            preview = await self.post(
                "ranking", "/v1/editions/preview", {"cutoff": cutoff.isoformat()}, headers=OFFICE
            )
            rows = [r for c in preview["categories"].values() for r in c["rows"]]
            rows = [r for r in rows if r["unit_id"].startswith("bk-")]
            return (
                sum(int(r["reported"]) for r in rows) == self.reported
                and sum(int(r["rectified"]) for r in rows) == self.rectified
            )

        await eventually(projected)
        edition = await self.post(
            "ranking", "/v1/editions", {"cutoff": cutoff.isoformat()}, headers=OFFICE
        )
        year = cutoff.astimezone(TZ).year

        async def allocated() -> Any:
            url = f"{self.stack.url('incentives')}/v1/allocations/{year}/{edition['number']}"
            response = await self.client.get(url, headers=VIEWER)
            return response.json() if response.status_code == 200 else None

        await eventually(allocated)
        return {"year": year, **edition}


@pytest.fixture
async def running_source(source: Servers) -> AsyncIterator[Stack]:
    receiver = Receiver()
    receiver.start()
    stack = Stack(source.nats_url, source.database_url, source.root / "source-logs", receiver)
    try:
        await asyncio.to_thread(stack.start)
        yield stack
    finally:
        await asyncio.to_thread(stack.stop)
        receiver.stop()


async def table_rows(url: str, schema: str, table: str) -> list[tuple[str, ...]]:
    """Every row of a table, every column as text, sorted: equal means identical."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            sql.SQL("SELECT t::text FROM {}.{} AS t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
        return sorted(tuple(row) for row in await cur.fetchall())


async def snapshot_tables(url: str) -> dict[str, list[tuple[str, ...]]]:
    return {f"{s}.{t}": await table_rows(url, s, t) for s, t in TABLES}


async def money(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The fund, the settlements and the ledger without row ids and booking times (a rebuild
    books again: it keeps what was booked, not necessarily when)."""
    queries = {
        "funds": "SELECT year, fund, planned_editions, allocated, version FROM incentives.funds",
        "settlements": "SELECT year, edition, revision, outcome, cutoff, pool, split,"
        " rule_version, source_event_id, stream_seq FROM incentives.settled_revisions",
        "ledger": "SELECT year, edition, revision, unit_id, fen, kind, rule_version,"
        " source_event_id FROM incentives.ledger_entries",
    }
    async with await psycopg.AsyncConnection.connect(url) as conn:
        found = {}
        for name, query in queries.items():
            cur = await conn.execute(query)
            found[name] = sorted(await cur.fetchall())
        return found


async def messages(url: str, stream: str, first: int, last: int) -> list[tuple[Any, ...]]:
    """(seq, subject, headers, data, time) of every sequence from ``first`` to ``last``; a
    deleted sequence reads as (seq, None)."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        found: list[tuple[Any, ...]] = []
        for seq in range(max(first, 1), last + 1):
            try:
                msg = await js.get_msg(stream, seq)
            except NotFoundError:
                found.append((seq, None))
                continue
            found.append((msg.seq, msg.subject, msg.headers, msg.data or b"", msg.time))
        return found
    finally:
        await nc.drain()


async def durables(url: str) -> dict[str, tuple[int, int]]:
    """Every durable consumer of every stream: (pending, ack pending)."""
    nc = await nats.connect(url)
    try:
        jsm = nc.jetstream()
        found = {}
        for info in await jsm.streams_info():
            stream = str(info.config.name)
            for consumer in await jsm.consumers_info(stream):
                if not consumer.config.durable_name:
                    continue
                key = f"{stream}/{consumer.name}"
                found[key] = (consumer.num_pending or 0, consumer.num_ack_pending or 0)
        return found
    finally:
        await nc.drain()


async def test_restore_into_empty_servers_then_rebuild_gives_the_same_editions_and_ledger(
    running_source: Stack, second_postgres: str, empty_nats: str, tmp_path: Path
) -> None:
    stack = running_source
    async with httpx.AsyncClient(timeout=30) as client:
        campaign = Campaign(stack, client, {})
        await campaign.register_units()
        editions = [await campaign.week(plan) for plan in ROUNDS]
        fund = (
            await client.get(
                f"{stack.url('incentives')}/v1/funds/{editions[-1]['year']}", headers=VIEWER
            )
        ).json()
    assert [e["number"] for e in editions] == [1, 2, 3]
    assert fund["allocated_fen"] > 0

    # A hot backup: the four services keep running while it is taken.
    folder = tmp_path / "backup"
    code, out, create_seconds = run(
        "tools.backup",
        "create",
        str(folder),
        nats_url=stack.nats_url,
        database_url=stack.database_url,
    )
    assert code == 0, out
    source_durables = await durables(stack.nats_url)
    await asyncio.to_thread(stack.stop)
    manifest = backup.verify_backup(folder)
    assert {p.name for p in manifest.streams} >= {"ISSUES", "RANKING", "INCENTIVES"}
    assert set(manifest.postgres.schemas) == set(backup.SCHEMAS)
    assert not any(f.name.endswith(".partial") for f in folder.iterdir())
    source_tables = await snapshot_tables(stack.database_url)
    assert len(source_tables["ranking.editions"]) == 3
    assert source_tables["incentives.ledger_entries"]

    # Restore into a PostgreSQL server and a NATS server that have never seen the system.
    target = Target(empty_nats, second_postgres)
    code, out, restore_seconds = run(
        "tools.backup",
        "restore",
        str(folder),
        nats_url=target.nats_url,
        database_url=target.database_url,
    )
    assert code == 0, out
    print(f"backup {create_seconds:.1f} s, restore {restore_seconds:.1f} s")

    # Every stream: the manifest's state, and every sequence identical to the source's.
    for part in manifest.streams:
        state = await backup_state(target.nats_url, part.name)
        assert backup.state_differences(part.state, state) == [], part.name
        first, last = int(part.state["first_seq"]), int(part.state["last_seq"])
        ours = await messages(target.nats_url, part.name, first, last)
        theirs = await messages(stack.nats_url, part.name, first, last)
        assert ours == theirs, part.name
        assert len(ours) == last - max(first, 1) + 1
        assert all(m[2] and m[2].get("Nats-Msg-Id") for m in ours if m[1] is not None)
    assert await snapshot_tables(target.database_url) == source_tables

    # A second restore into the same (no longer empty) servers is refused, changing nothing.
    code, out, _ = run(
        "tools.backup",
        "restore",
        str(folder),
        nats_url=target.nats_url,
        database_url=target.database_url,
    )
    assert code == 2, out
    assert "already has the schemas" in out and "already has the streams" in out

    # R7 on the restored servers: every edition recomputed at its input positions.
    code, out, rebuild_seconds = run(
        "services.ranking.rebuild", nats_url=target.nats_url, database_url=target.database_url
    )
    assert code == 0, out
    assert "3 of 3 edition revisions are identical" in out, out
    print(f"ranking rebuild {rebuild_seconds:.1f} s")
    rebuilt = await snapshot_tables(target.database_url)
    assert rebuilt["ranking.editions"] == source_tables["ranking.editions"]
    assert rebuilt["ranking.edition_units"] == source_tables["ranking.edition_units"]

    # R6, R7: the ledger settled again from the restored RANKING stream equals the stored one.
    source_money = await money(stack.database_url)
    assert len(source_money["settlements"]) == 3
    code, out, incentives_seconds = run(
        "services.incentives.rebuild", nats_url=target.nats_url, database_url=target.database_url
    )
    assert code == 0, out
    print(f"incentives rebuild {incentives_seconds:.1f} s")
    assert await money(target.database_url) == source_money

    # The services on the restored servers: their durables are created again and deliver every
    # stream from its start; nothing is applied twice and the money is the same.
    receiver = Receiver()
    receiver.start()
    restored = Stack(target.nats_url, target.database_url, tmp_path / "target-logs", receiver)
    try:
        await asyncio.to_thread(restored.start)

        async def drained() -> bool:
            found = await durables(target.nats_url)
            return set(found) >= set(source_durables) and all(
                pending == (0, 0) for pending in found.values()
            )

        await eventually(drained, within=90)
        async with httpx.AsyncClient(timeout=30) as client:
            url = f"{restored.url('incentives')}/v1/funds/{editions[-1]['year']}"
            assert (await client.get(url, headers=VIEWER)).json() == fund
            latest = await client.get(
                f"{restored.url('ranking')}/v1/editions/latest", headers=VIEWER
            )
            assert latest.json()["number"] == 3
    finally:
        await asyncio.to_thread(restored.stop)
        receiver.stop()
    assert await money(target.database_url) == source_money
    after = await snapshot_tables(target.database_url)
    assert after["ranking.editions"] == source_tables["ranking.editions"]


async def backup_state(url: str, stream: str) -> dict[str, Any]:
    nc = await nats.connect(url)
    try:
        state = await backup.stream_state(nc, stream)
    finally:
        await nc.drain()
    assert state is not None, f"{stream} was not restored"
    return state


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
    assert await asyncio.to_thread(backup.main, ["create", str(folder), *args]) == 0
    manifest = backup.verify_backup(folder)
    assert [p.name for p in manifest.streams] == [ISSUES.name, DLQ.name]
    assert manifest.streams[0].state["first_seq"] == 4
    target_db = _fresh_database(Servers("", second_postgres, tmp_path), "restored")
    args = ["--nats-url", empty_nats, "--database-url", target_db]
    assert await asyncio.to_thread(backup.main, ["restore", str(folder), *args]) == 0

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
