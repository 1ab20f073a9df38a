"""The incentives rebuild on real NATS + PostgreSQL (issue 7 item 9, R6, R7): the ledger rebuilt
from ``RANKING`` equals the stored one and serves the same views without publishing anything
again; other fund settings are reported as differences (exit 1); an unsent outbox refuses.

Each test has a NATS server and a database of its own: the rebuild replays whole streams."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
import psycopg
import pytest

from services.contracts.incentives import Allocated
from services.incentives import rebuild as rebuild_command
from services.incentives.settings import IncentivesSettings
from services.runtime import embedded
from tests.conftest import Servers, _fresh_database

from .editions import board, edition
from .support import Incentives, eventually, publish, replica, settled

pytestmark = pytest.mark.integration
YEAR, NEXT = 2061, 2062
# R6.1/R6.2: a small fund over E = 3, so that the third edition takes what remains and the
# fourth finds the fund spent; the next year has the default fund.
SHORT_FUND = f"[years.{YEAR}]\nfund_fen = 1000000\nplanned_editions = 3\n"
YEARS = (YEAR, NEXT)


@pytest.fixture
def own(servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Servers]:
    """A NATS server and a database of the test's own; the service's variables point at them
    (the replicas and the command read the same ones)."""
    port = embedded.free_port()
    proc = embedded.start_nats(port, tmp_path / "nats", tmp_path / "nats.log")
    try:
        own = Servers(f"nats://127.0.0.1:{port}", _fresh_database(servers, "rebuild"), tmp_path)
        monkeypatch.setenv("NATS_URL", own.nats_url)
        monkeypatch.setenv("DATABASE_URL", own.database_url)
        monkeypatch.setenv("AUTH_MODE", "dev")
        monkeypatch.setenv("INCENTIVES_FUND_FILE", str(_fund_file(tmp_path, SHORT_FUND)))
        for key in [k for k in os.environ if k.endswith(("_NATS_URL", "_DATABASE_URL"))]:
            monkeypatch.delenv(key)
        yield own
    finally:
        embedded.stop(proc)


@pytest.fixture
async def own_js(own: Servers) -> AsyncIterator[Any]:
    nc = await nats.connect(own.nats_url)
    try:
        yield nc.jetstream()
    finally:
        await nc.drain()


def _fund_file(folder: Path, text: str, name: str = "fund.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


async def _settle_in_turn(svc: Incentives, js: Any) -> None:
    """Editions, each published once the one before is settled (R6.2 stream order): two
    paying editions, a revision that moves money between units (R6.4), the edition that takes
    the rest, one that finds the fund spent, a copy of edition 2 past the duplicate window and
    one under a new event id, an edition that contradicts itself (dead-lettered) and the next
    year's first."""
    departments = {"dept-a": "9031/100", "dept-d": "40"}
    first = edition(
        YEAR,
        1,
        department=board(departments, red=("dept-a",), black=("dept-d",)),
        district=board({"dist-b": "88", "dist-c": "701/8"}, red=("dist-b",)),
        town=board({"town-e": "99"}, red=("town-e",)),  # R6.1: towns are not paid
    )
    second = edition(YEAR, 2, district=board({"dist-b": "80", "dist-c": "70"}, red=("dist-b",)))
    revised = edition(
        YEAR,
        1,
        revision=2,
        department=board(departments, red=("dept-a",), black=("dept-d",)),
        district=board({"dist-b": "88", "dist-c": "89"}, red=("dist-c",)),
    )
    third = edition(YEAR, 3, department=board({"dept-a": "95", "dept-d": "60"}, red=("dept-a",)))
    fourth = edition(YEAR, 4, district=board({"dist-c": "91"}, red=("dist-c",)))
    following = edition(NEXT, 1, district=board({"dist-b": "77", "dist-c": "75"}, red=("dist-b",)))
    steps = [(first, 1, 1), (second, 2, 1), (revised, 1, 2), (third, 3, 1), (fourth, 4, 1)]
    for event, number, revisions in steps:
        await publish(js, event)
        await settled(svc, YEAR, number, revisions)
    await publish(js, second, f"again-{second.event_id}")  # past JetStream's dedup window
    await publish(js, second.model_copy(update={"event_id": uuid.uuid4()}))  # R6.4: no money
    await publish(js, edition(YEAR, 5).model_copy(update={"year": NEXT}))  # cutoff in 2061
    await publish(js, following)
    await settled(svc, NEXT, 1)
    await _relayed(svc)


async def _relayed(svc: Incentives) -> None:
    async def empty() -> bool:
        async with svc.runtime.pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            row = await cur.fetchone()
        return row is not None and row["n"] == 0

    await eventually(empty)


async def _views(svc: Incentives) -> dict[str, Any]:
    """What the read API serves about both years."""
    views: dict[str, Any] = {}
    for year, editions in ((YEAR, 4), (NEXT, 1)):
        views[f"fund {year}"] = (await svc.http.get(f"/v1/funds/{year}")).json()
        views[f"ledger {year}"] = (await svc.http.get("/v1/ledger", params={"year": year})).json()
        for n in range(1, editions + 1):
            response = await svc.http.get(f"/v1/allocations/{year}/{n}")
            views[f"allocations {year}/{n}"] = response.json()
    return views


def _booking_times(view: Any, found: list[datetime]) -> Any:
    """``view`` without its ``booked_at`` values, which are appended to ``found``: the log
    has the moment each settlement was made, not the moment of its database transaction."""
    if isinstance(view, dict):
        if "booked_at" in view:
            found.append(datetime.fromisoformat(view["booked_at"]))
        return {k: _booking_times(v, found) for k, v in view.items() if k != "booked_at"}
    if isinstance(view, list):
        return [_booking_times(v, found) for v in view]
    return view


async def _allocations_on_stream(js: Any) -> list[tuple[int, Allocated]]:
    last = (await js.stream_info("INCENTIVES")).state.last_seq
    return [
        (seq, Allocated.model_validate_json((await js.get_msg("INCENTIVES", seq)).data))
        for seq in range(1, last + 1)
    ]


async def _allocated_on_stream(js: Any) -> list[tuple[int, uuid.UUID]]:
    return [(seq, event.event_id) for seq, event in await _allocations_on_stream(js)]


async def _rows(url: str, query: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(query)
        return list(await cur.fetchall())


async def test_the_rebuilt_ledger_equals_the_stored_one_and_publishes_nothing_again(
    own: Servers, own_js: Any
) -> None:
    async with replica() as svc:
        await _settle_in_turn(svc, own_js)
        before = await _views(svc)
    assert before[f"fund {YEAR}"]["remaining_fen"] == 0, "the short fund was not spent"
    assert before[f"allocations {YEAR}/4"]["revisions"][0]["pool_fen"] == 0
    assert any(e["kind"] == "adjustment" for e in before[f"ledger {YEAR}"])
    stored = await _allocated_on_stream(own_js)
    assert len(stored) == 6  # editions 1-4, the revision, the next year's first

    report = await rebuild_command.rebuild(IncentivesSettings())

    assert report.differences == []
    assert (report.stored, report.identical) == (6, 6)
    replayed = report.replayed
    assert (replayed.editions, replayed.applied, replayed.duplicates, replayed.invalid) == (
        9,
        7,
        1,
        1,
    )
    # Each rebuilt event became the stored one, published at its sequence: nothing to send.
    outbox = await _rows(
        own.database_url,
        "SELECT stream_seq, event_id, published_at IS NOT NULL, parked_at IS NULL"
        " FROM incentives.outbox ORDER BY id",
    )
    assert outbox == [(seq, event_id, True, True) for seq, event_id in stored]

    async with replica() as svc:
        after = await _views(svc)
        await asyncio.sleep(1.0)  # the relay has run (it polls every 0.2 s)
    booked: tuple[list[datetime], list[datetime]] = ([], [])
    assert _booking_times(after, booked[1]) == _booking_times(before, booked[0])
    # Booked when settled, not when rebuilt: at the time of the stored event, the instant the
    # original settlement took for its rows and its event alike.
    assert len(booked[0]) == len(booked[1]) > 0
    assert booked[1] == booked[0]
    settled_at = {
        (e.year, e.edition, e.revision): e.occurred_at
        for _, e in await _allocations_on_stream(own_js)
    }
    for year in YEARS:
        for entry in after[f"ledger {year}"]:
            key = (entry["year"], entry["edition"], entry["revision"])
            assert datetime.fromisoformat(entry["booked_at"]) == settled_at[key]
    assert await _allocated_on_stream(own_js) == stored, "an allocation was published again"


async def test_other_fund_settings_are_reported_and_exit_1_without_publishing(
    own: Servers, own_js: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with replica() as svc:
        await _settle_in_turn(svc, own_js)
    stored = await _allocated_on_stream(own_js)
    doubled = SHORT_FUND.replace("1000000", "2000000")
    monkeypatch.setenv("INCENTIVES_FUND_FILE", str(_fund_file(own.root, doubled, "other.toml")))

    code = await asyncio.to_thread(rebuild_command.main, [])

    assert code == 1
    out = capsys.readouterr().out
    assert f"DIFFERS {YEAR}/1 r1 (INCENTIVES #1) at $.fund: stored 1000000, now 2000000" in out
    assert f"DIFFERS {YEAR}/1 r1 (INCENTIVES #1) at $.pool: stored 333333, now 666666" in out
    assert f"DIFFERS {NEXT}/1" not in out  # the next year's fund did not change
    assert "1 of 6 stored allocations are identical" in out
    # What the rebuild computed differently is parked, never sent by itself.
    parked = await _rows(
        own.database_url,
        "SELECT count(*) FILTER (WHERE parked_at IS NOT NULL),"
        " count(*) FILTER (WHERE published_at IS NULL AND parked_at IS NULL)"
        " FROM incentives.outbox",
    )
    assert parked == [(5, 0)]
    async with replica():
        await asyncio.sleep(1.0)
    assert await _allocated_on_stream(own_js) == stored


async def test_an_unsent_outbox_refuses_the_rebuild_and_drops_nothing(
    own: Servers, own_js: Any
) -> None:
    async with replica() as svc:
        await publish(own_js, edition(YEAR, 1, district=board({"dist-b": "88"}, red=("dist-b",))))
        await settled(svc, YEAR, 1)
        await _relayed(svc)
    # As if the service had stopped between a commit and its relay's publish.
    async with await psycopg.AsyncConnection.connect(own.database_url) as conn:
        await conn.execute(
            "INSERT INTO incentives.outbox (event_id, subject, payload) VALUES (%s, %s, %s)",
            (uuid.uuid4(), Allocated.SUBJECT, b"{}"),
        )

    with pytest.raises(SystemExit, match="rebuild refused: 1 events in incentives' outbox"):
        await rebuild_command.rebuild(IncentivesSettings())

    entries = await _rows(own.database_url, "SELECT count(*) FROM incentives.ledger_entries")
    assert entries == [(1,)]
