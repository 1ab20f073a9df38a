"""Backup and restore of a running system (issue 7, Operations): ``python -m tools.backup
create`` while the four services run, ``restore`` into servers of their own that start empty,
then the rebuilds.

The restored streams hold every message at its original sequence with its subject, headers,
data and timestamp; the restored database holds the same editions and ledger, row for row;
ranking's rebuild recomputes every edition at its recorded input positions from the restored
streams and incentives' rebuild settles the same ledger again (both exit 0); the services
started on the restored servers double nothing although their durables deliver every stream
again from its start (the snapshots carry no consumers).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import Receiver, Stack
from tests.integration.backup.campaign import ROUNDS, VIEWER, Campaign
from tests.integration.backup.support import (
    Target,
    backup_state,
    durables,
    eventually,
    messages,
    money,
    run,
    snapshot_tables,
)
from tools.backup.jetstream import state_differences
from tools.backup.manifest import verify_backup
from tools.backup.postgres import SCHEMAS

pytestmark = pytest.mark.integration


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
    manifest = verify_backup(folder)
    assert {p.name for p in manifest.streams} >= {"ISSUES", "RANKING", "INCENTIVES"}
    assert set(manifest.postgres.schemas) == set(SCHEMAS)
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
        assert state_differences(part.state, state) == [], part.name
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
