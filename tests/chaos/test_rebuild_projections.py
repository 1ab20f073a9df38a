"""Issue 7.9: drop the ranking and incentives projections and replay them. A campaign's issues
flow into ranking, editions are published across the year (and into the next one), the fund
of the year runs out and a revision moves money; editions and ledger equal the pure domains
folded over the events sent. Both services are stopped, both rebuild commands run as
processes and exit 0; restarted, the services serve the same editions and ledger, and nothing
is published again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.contracts.streams import INCENTIVES, RANKING
from services.incentives.domain.fund import FundSettings
from services.incentives.domain.ledger import LedgerState
from services.incentives.domain.settlement import EditionSummary, RedListedUnit, decide, evolve
from services.incentives.fund_file import load_fund_file
from tests.conftest import Servers

from .checks import as_json, ranking_env, ranking_reaches
from .harness import (
    OFFICE,
    ROOT,
    OwnNats,
    ServiceProcess,
    connect,
    eventually,
    fresh_database,
    publish_events,
    query,
    start_together,
    stream_messages,
)
from .world import TZ, World, build_world

pytestmark = pytest.mark.chaos

FIRST = datetime(2024, 3, 11, tzinfo=TZ)  # the first Monday after the world's first issues
# R6.1/R6.2: 2024's fund is spent by its 6th edition (E = 6), so the later ones find nothing;
# 2025 has the default fund.
FUND_FILE = "[years.2024]\nfund_fen = 1000000\nplanned_editions = 6\n"
REVISED = 1  # the edition republished after late events (index into the cutoffs)


def cutoffs(scale: int) -> list[datetime]:
    """Mondays from 11 March 2024 to 6 January 2025 (every one in the full version)."""
    weeks = sorted(set(range(0, 43, 1 if scale > 1 else 4)) | {43})
    return [FIRST + timedelta(weeks=w) for w in weeks]


@dataclass(frozen=True)
class Published:
    """An edition as the pure ranking domain expects it, with the number it was given."""

    year: int
    number: int
    revision: int
    content: dict[str, Any]


def summary(edition: Published) -> EditionSummary:
    """What settlement needs of an expected edition (as incentives reads a published one)."""
    red, black = [], set()
    for category, board in edition.content["categories"].items():
        composites = {row["unit_id"]: row["composite"]["exact"] for row in board["rows"]}
        red += [RedListedUnit(u, category, Fraction(composites[u])) for u in board["red"]]
        black |= set(board["black"])
    return EditionSummary(
        year=edition.year,
        number=edition.number,
        revision=edition.revision,
        cutoff=datetime.fromisoformat(edition.content["cutoff"]),
        rule_version=edition.content["rule_version"],
        event_id="expected",
        red=tuple(red),
        black=frozenset(black),
    )


def expected_ledger(published: list[Published], fund: FundSettings) -> list[tuple[Any, ...]]:
    """R6.2-R6.4: the pure settlement folded over the editions in publication order."""
    states: dict[int, LedgerState] = {}
    entries: list[tuple[Any, ...]] = []
    for edition in published:
        year = edition.year
        state = states.get(year) or LedgerState(
            year, fund.fund_for(year), fund.planned_editions_for(year)
        )
        settlement = decide(state, summary(edition), fund.eligible_categories)
        states[year] = evolve(state, settlement)
        entries += [
            (e.year, e.edition, e.revision, e.unit_id, e.kind, e.fen) for e in settlement.entries
        ]
    return entries


async def publish_edition(client: httpx.AsyncClient, url: str, cutoff: datetime) -> dict[str, Any]:
    response = await client.post(f"{url}/v1/editions", json={"cutoff": cutoff.isoformat()})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def served(
    client: httpx.AsyncClient, ranking: str, incentives: str, published: list[Published]
) -> dict[str, Any]:
    """Every edition revision and the fund, allocations and ledger of every year, as served."""
    views: dict[str, Any] = {}
    for e in published:
        key = f"{e.year}/{e.number}"
        r = await client.get(f"{ranking}/v1/editions/{key}", params={"revision": e.revision})
        views[f"edition {key} r{e.revision}"] = r.json()
        views[f"allocations {key}"] = (
            await client.get(f"{incentives}/v1/allocations/{key}")
        ).json()
    for year in sorted({e.year for e in published}):
        views[f"fund {year}"] = (await client.get(f"{incentives}/v1/funds/{year}")).json()
        ledger = await client.get(f"{incentives}/v1/ledger", params={"year": year})
        views[f"ledger {year}"] = ledger.json()
    views["latest"] = (await client.get(f"{ranking}/v1/editions/latest")).json()
    return views


def without_booking_times(view: Any, found: list[datetime]) -> Any:
    """``view`` without ``booked_at`` (collected in ``found``): the log has when each settlement
    was made, not when its transaction started."""
    if isinstance(view, dict):
        if "booked_at" in view:
            found.append(datetime.fromisoformat(view["booked_at"]))
        return {k: without_booking_times(v, found) for k, v in view.items() if k != "booked_at"}
    if isinstance(view, list):
        return [without_booking_times(v, found) for v in view]
    return view


async def on_the_streams(url: str) -> dict[str, list[tuple[int, str, str]]]:
    """(sequence, subject, Nats-Msg-Id) of everything ranking and incentives published."""
    nc = await connect(url)
    try:
        js = nc.jetstream()
        return {
            spec.name: [
                (seq, subject, headers.get("Nats-Msg-Id", ""))
                for seq, subject, _, headers in await stream_messages(js, spec.name, spec.subjects)
            ]
            for spec in (RANKING, INCENTIVES)
        }
    finally:
        await nc.drain()


def run_rebuild(service: str, env: dict[str, str]) -> tuple[int, str, float]:
    """``python -m services.<service>.rebuild`` as an operator runs it: (exit, output, seconds)."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("NATS_URL", "DATABASE_URL", "_FAULT_HOOKS"))
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}.rebuild"],
        cwd=ROOT,
        env={**inherited, "PYTHONPATH": str(ROOT), "AUTH_MODE": "dev", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


async def test_rebuilt_projections_serve_the_same_editions_and_ledger_and_publish_nothing(
    own_nats: OwnNats,
    servers: Servers,
    fleet: list[ServiceProcess],
    tmp_path: Path,
    scale: int,
) -> None:
    world: World = build_world("rb", 1500 * scale, seed=13)
    database = fresh_database(servers, "chaos_rebuild")
    fund_file = tmp_path / "fund.toml"
    fund_file.write_text(FUND_FILE, encoding="utf-8")
    env = {**ranking_env(own_nats.url, database), "INCENTIVES_FUND_FILE": str(fund_file)}
    procs = {s: ServiceProcess(s, env, tmp_path / "logs") for s in ("ranking", "incentives")}
    fleet.extend(procs.values())
    await start_together(procs.values())
    ranking, incentives = procs["ranking"].url, procs["incentives"].url

    async def send(events: list[Any]) -> None:
        nc = await connect(own_nats.url)
        try:
            await publish_events(nc.jetstream(), events)
            last = (await nc.jetstream().stream_info("ISSUES")).state.last_seq
        finally:
            await nc.drain()
        await ranking_reaches(database, last, 120, "ranking applied every event")

    async def settled(count: int) -> bool:
        rows = await query(database, "SELECT count(*) AS n FROM incentives.settled_revisions")
        return bool(rows[0]["n"] == count)

    # A campaign of issues, then an edition each (sampled) Monday into the next year.
    await send(world.events)
    published: list[Published] = []
    async with httpx.AsyncClient(headers=OFFICE, timeout=60) as client:
        for cutoff in cutoffs(scale):
            edition = await publish_edition(client, ranking, cutoff)
            published.append(
                Published(
                    edition["year"], edition["number"], 1, as_json(world.expected_edition(cutoff))
                )
            )
        await eventually(lambda: settled(len(published)), 60, "every edition settled")
        # Late events before an early cutoff: a new revision re-splits its pool (R4.1, R6.4).
        sent = len(world.events)
        for _ in range(30 * scale):
            world.add_issue()
        await send(world.events[sent:])
        cutoff = cutoffs(scale)[REVISED]
        edition = await publish_edition(client, ranking, cutoff)
        first = published[REVISED]
        assert (edition["year"], edition["number"], edition["revision"]) == (
            first.year,
            first.number,
            2,
        )
        published.append(
            Published(first.year, first.number, 2, as_json(world.expected_edition(cutoff)))
        )
        await eventually(lambda: settled(len(published)), 60, "the revision settled")

        async def relayed() -> bool:
            rows = await query(
                database,
                "SELECT (SELECT count(*) FROM ranking.outbox WHERE published_at IS NULL)"
                " + (SELECT count(*) FROM incentives.outbox WHERE published_at IS NULL) AS n",
            )
            return bool(rows[0]["n"] == 0)

        await eventually(relayed, 30, "both outboxes are empty")
        before = await served(client, ranking, incentives, published)

    # What they serve is what the pure domains give for exactly the events sent.
    for e in published:
        shown = before[f"edition {e.year}/{e.number} r{e.revision}"]
        assert {k: shown[k] for k in e.content} == e.content, f"edition {e.year}/{e.number}"
    ledger = [
        (x["year"], x["edition"], x["revision"], x["unit_id"], x["kind"], x["fen"])
        for year in (2024, 2025)
        for x in before[f"ledger {year}"]
    ]
    expected = expected_ledger(published, load_fund_file(fund_file))
    assert ledger == sorted(expected, key=lambda entry: entry[0])  # each year in booking order
    assert before["fund 2024"]["remaining_fen"] == 0, "2024's fund was not spent"
    assert any(x[4] == "adjustment" for x in ledger), "the revision moved no money"
    assert {x[0] for x in ledger} == {2024, 2025}
    streams = await on_the_streams(own_nats.url)

    for proc in procs.values():
        code, _ = await asyncio.to_thread(proc.terminate, 60)
        assert code is not None, f"{proc.name} did not stop:\n{proc.tail()}"
    rebuilds = await asyncio.gather(
        *(asyncio.to_thread(run_rebuild, s, env) for s in ("ranking", "incentives"))
    )
    for service, (code, output, seconds) in zip(("ranking", "incentives"), rebuilds, strict=True):
        assert code == 0, f"{service} rebuild exited {code}:\n{output}"
        print(f"{service} rebuild: {seconds:.1f} s\n{output}")

    await start_together(procs.values())
    async with httpx.AsyncClient(headers=OFFICE, timeout=60) as client:
        after = await served(client, ranking, incentives, published)
    booked: tuple[list[datetime], list[datetime]] = ([], [])
    assert without_booking_times(after, booked[1]) == without_booking_times(before, booked[0])
    assert all(abs((a - b).total_seconds()) < 2 for a, b in zip(*booked, strict=True)), booked

    # Nothing published twice: both relays have run over the rebuilt outboxes by now.
    await asyncio.sleep(2.0)
    assert await on_the_streams(own_nats.url) == streams
    pending = await query(
        database,
        "SELECT (SELECT count(*) FROM ranking.outbox WHERE published_at IS NULL)"
        " + (SELECT count(*) FROM incentives.outbox WHERE published_at IS NULL) AS n",
    )
    assert pending == [{"n": 0}]
    for proc in fleet:
        assert proc.alive(), f"{proc.name} died:\n{proc.tail()}"
