"""Exactly-once money on real NATS + PostgreSQL (R6.4): two replicas at once, a redelivery
after a crash between commit and ack, and the database refusing what the code must never do.
Each test uses its own campaign year; replicas share the session's durable consumer."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from services.contracts.incentives import Allocated
from services.contracts.ranking import EditionPublished
from services.incentives.domain.calendar import planned_editions
from services.incentives.domain.pool import pool_for_edition
from tests.conftest import Servers

from .editions import board, edition
from .support import Incentives, eventually, fetch_all, publish, replica, settled

pytestmark = pytest.mark.integration
FUND = 800_000_000


async def announced(js: Any, year: int, number: int) -> list[Allocated]:
    wire = await fetch_all(js, Allocated.SUBJECT, "INCENTIVES")
    events = [Allocated.model_validate_json(data) for data in wire]
    return [e for e in events if (e.year, e.edition) == (year, number)]


async def waiting_on_locks(conn: psycopg.AsyncConnection[Any]) -> int:
    cur = await conn.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def test_the_same_edition_reaching_two_replicas_at_once_allocates_once(
    incentives: Incentives, servers: Servers, js: Any
) -> None:
    year = 2040
    first = edition(year, 1, district=board({"dist-a": "90", "dist-b": "80"}, red=("dist-a",)))
    copies: list[tuple[EditionPublished, str]] = [
        (first, f"a-{first.event_id}"),  # the same event, published twice past the window
        (first, f"b-{first.event_id}"),
        (first.model_copy(update={"event_id": uuid.uuid4()}), ""),  # the same revision, re-sent
        (first.model_copy(update={"event_id": uuid.uuid4()}), ""),
    ]
    async with replica() as second_replica:
        # Hold the year's fund row so that the deliveries pile up inside their transactions,
        # all in flight at once (on either replica), until the lock is released.
        async with (
            await psycopg.AsyncConnection.connect(servers.database_url) as holder,
            await psycopg.AsyncConnection.connect(servers.database_url) as watcher,
        ):
            async with holder.transaction():
                await holder.execute(
                    "INSERT INTO incentives.funds (year, fund, planned_editions)"
                    " VALUES (%s, %s, %s)",
                    (year, FUND, planned_editions(year)),
                )
            async with holder.transaction():
                await holder.execute(
                    "SELECT 1 FROM incentives.funds WHERE year = %s FOR UPDATE", (year,)
                )
                for event, msg_id in copies:
                    await publish(js, event, msg_id or None)

                async def piled_up() -> bool:
                    return await waiting_on_locks(watcher) >= 2

                await eventually(piled_up)
        await publish(js, edition(year, 2, district=board({"dist-a": "90"}, red=("dist-a",))))
        await settled(second_replica, year, 2)

    pool_1 = pool_for_edition(FUND, 0, planned_editions(year), 0)
    pool_2 = pool_for_edition(FUND, pool_1, planned_editions(year), 1)
    shown = (await incentives.http.get(f"/v1/allocations/{year}/1")).json()
    assert [r["revision"] for r in shown["revisions"]] == [1]
    assert [(p["unit_id"], p["fen"]) for p in shown["paid"]] == [("dist-a", pool_1)]
    fund = (await incentives.http.get(f"/v1/funds/{year}")).json()
    assert (fund["allocated_fen"], fund["editions_settled"]) == (pool_1 + pool_2, 2)
    assert len(await announced(js, year, 1)) == 1


async def test_an_edition_redelivered_after_a_crash_between_commit_and_ack_adds_nothing(
    incentives: Incentives, js: Any
) -> None:
    year = 2041
    first = edition(year, 1, department=board({"dept-a": "90", "dept-b": "70"}, red=("dept-a",)))
    await publish(js, first)
    await settled(incentives, year, 1)
    before = (await incentives.http.get("/v1/ledger", params={"year": year})).json()

    # The commit happened but the ack was lost: JetStream delivers the message again, and a
    # republish by a crashed producer even carries a new Nats-Msg-Id.
    await publish(js, first, f"after-crash-{first.event_id}")
    await publish(js, edition(year, 2, department=board({"dept-b": "70"}, red=("dept-b",))))
    await settled(incentives, year, 2)

    after = (await incentives.http.get("/v1/ledger", params={"year": year})).json()
    assert [e for e in after if e["edition"] == 1] == before
    pool_1 = pool_for_edition(FUND, 0, planned_editions(year), 0)
    pool_2 = pool_for_edition(FUND, pool_1, planned_editions(year), 1)
    fund = (await incentives.http.get(f"/v1/funds/{year}")).json()
    assert fund["allocated_fen"] == pool_1 + pool_2

    async def one_announced() -> bool:
        return len(await announced(js, year, 1)) == 1

    await eventually(one_announced)
    (event,) = await announced(js, year, 1)
    assert event.cutoff == first.cutoff
    assert event.input_positions is not None and event.input_positions["RANKING"] >= 1


async def test_the_database_refuses_to_overspend_or_rewrite_the_ledger(
    incentives: Incentives, servers: Servers, js: Any
) -> None:
    """R6.4 holds even against code that tries: the year's total never exceeds the fund, the
    fund row follows the ledger, and ledger rows are never changed."""
    year = 2042
    await publish(js, edition(year, 1, district=board({"dist-a": "90"}, red=("dist-a",))))
    await settled(incentives, year, 1)
    refused = [
        (
            "INSERT INTO incentives.ledger_entries (year, edition, revision, unit_id, fen, kind,"
            " rule_version, source_event_id) VALUES (%s, 1, 1, 'dist-z', %s, 'allocation', 'x',"
            " gen_random_uuid())",
            (year, FUND),
        ),
        ("UPDATE incentives.funds SET allocated = 0 WHERE year = %s", (year,)),
        ("UPDATE incentives.ledger_entries SET fen = 1 WHERE year = %s", (year,)),
        ("DELETE FROM incentives.settled_revisions WHERE year = %s", (year,)),
    ]
    async with await psycopg.AsyncConnection.connect(servers.database_url) as conn:
        for statement, params in refused:
            with pytest.raises(psycopg.errors.DatabaseError):
                async with conn.transaction():
                    await conn.execute(statement, params)
    pool = pool_for_edition(FUND, 0, planned_editions(year), 0)
    fund = (await incentives.http.get(f"/v1/funds/{year}")).json()
    assert (fund["allocated_fen"], fund["remaining_fen"]) == (pool, FUND - pool)
