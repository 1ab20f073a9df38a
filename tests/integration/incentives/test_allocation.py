"""The incentive fund on real NATS + PostgreSQL (R6.2-R6.4): pools, splits, exactly-once money,
revisions as adjustments, dead letters. Each test uses its own campaign year: the database and
the durable consumer are shared by the whole session."""

from __future__ import annotations

import json
import uuid
from fractions import Fraction
from typing import Any

import pytest

from services.contracts.base import to_wire
from services.contracts.dead_letter import DeadLetter
from services.contracts.incentives import Allocated
from services.contracts.ranking import EditionPublished
from services.incentives.domain.apportionment import apportion
from services.incentives.domain.calendar import planned_editions
from services.incentives.domain.money import fen_to_yuan
from services.incentives.domain.pool import pool_for_edition

from .editions import board, edition
from .support import Incentives, eventually, fetch_all, publish, settled

pytestmark = pytest.mark.integration
FUND = 800_000_000


def scores(*pairs: tuple[str, str]) -> dict[str, Fraction]:
    return {unit_id: Fraction(score) for unit_id, score in pairs}


async def test_an_edition_pays_its_red_districts_and_departments_a_pool_split_by_score(
    incentives: Incentives, js: Any
) -> None:
    year = 2031
    first = edition(
        year,
        1,
        department=board(
            {"dept-a": "9031/100", "dept-d": "40"}, red=("dept-a",), black=("dept-d",)
        ),
        district=board({"dist-b": "88", "dist-c": "701/8"}, red=("dist-b", "dist-c")),
        town=board({"town-e": "99"}, red=("town-e",)),  # R6.1: towns are not paid
    )
    await publish(js, first)
    await settled(incentives, year, 1)

    pool = pool_for_edition(FUND, 0, planned_editions(year), 0)
    expected = apportion(
        pool, scores(("dept-a", "9031/100"), ("dist-b", "88"), ("dist-c", "701/8"))
    )
    assert sum(expected.values()) == pool
    assert set(expected) == {"dept-a", "dist-b", "dist-c"}

    shown = (await incentives.http.get(f"/v1/allocations/{year}/1")).json()
    (revision,) = shown["revisions"]
    assert revision["pool_fen"] == pool
    assert revision["pool_yuan"] == fen_to_yuan(pool)
    awards = {a["unit_id"]: a["fen"] for a in revision["awards"]}
    assert awards == expected
    assert {a["kind"] for a in revision["awards"]} == {"allocation"}

    fund = (await incentives.http.get(f"/v1/funds/{year}")).json()
    assert fund == {
        "year": year,
        "fund_fen": FUND,
        "allocated_fen": pool,
        "remaining_fen": FUND - pool,
        "fund_yuan": "8000000.00",
        "allocated_yuan": fen_to_yuan(pool),
        "remaining_yuan": fen_to_yuan(FUND - pool),
        "editions_settled": 1,
        "planned_editions": planned_editions(year),
    }
    ledger = await incentives.http.get("/v1/ledger", params={"year": year, "unit_id": "dist-b"})
    assert [(e["unit_id"], e["fen"]) for e in ledger.json()] == [("dist-b", expected["dist-b"])]

    async def announced() -> list[Allocated]:
        wire = await fetch_all(js, Allocated.SUBJECT, "INCENTIVES")
        events = [Allocated.model_validate_json(data) for data in wire]
        return [e for e in events if e.year == year]

    async def one_announced() -> bool:
        return len(await announced()) == 1

    await eventually(one_announced)
    (event,) = await announced()
    assert event.aggregate_id == f"fund-{year}"
    assert event.aggregate_version == 1
    assert {a.unit_id: a.fen for a in event.awards} == expected
    assert (event.pool, event.allocated_total, event.remaining) == (pool, pool, FUND - pool)


async def test_the_same_edition_delivered_twice_allocates_once(
    incentives: Incentives, js: Any
) -> None:
    year = 2032
    first = edition(year, 1, district=board({"dist-a": "90", "dist-b": "80"}, red=("dist-a",)))
    await publish(js, first, "a-" + str(first.event_id))
    await publish(js, first, "b-" + str(first.event_id))  # past JetStream's duplicate window
    # The same revision republished under a new event id: R6.4 adds no money either.
    await publish(js, first.model_copy(update={"event_id": uuid.uuid4()}))
    # A later edition flows after the duplicates on the same consumer, so once it is settled
    # the duplicates have been handled.
    second = edition(year, 2, district=board({"dist-a": "90"}, red=("dist-a",)))
    await publish(js, second)
    await settled(incentives, year, 2)

    pool_1 = pool_for_edition(FUND, 0, planned_editions(year), 0)
    pool_2 = pool_for_edition(FUND, pool_1, planned_editions(year), 1)
    shown = (await incentives.http.get(f"/v1/allocations/{year}/1")).json()
    assert [r["revision"] for r in shown["revisions"]] == [1]
    assert shown["paid"] == [{"unit_id": "dist-a", "fen": pool_1, "yuan": fen_to_yuan(pool_1)}]
    fund = (await incentives.http.get(f"/v1/funds/{year}")).json()
    assert (fund["allocated_fen"], fund["editions_settled"]) == (pool_1 + pool_2, 2)


async def test_a_revision_books_only_the_adjustments(incentives: Incentives, js: Any) -> None:
    year = 2033
    before = {"dept-a": "90", "dept-b": "80", "dept-c": "70"}
    await publish(js, edition(year, 1, department=board(before, red=("dept-a", "dept-b"))))
    await settled(incentives, year, 1)
    revised = edition(year, 1, revision=2, department=board(before, red=("dept-a", "dept-c")))
    await publish(js, revised)
    await settled(incentives, year, 1, revisions=2)

    pool = pool_for_edition(FUND, 0, planned_editions(year), 0)
    paid = apportion(pool, scores(("dept-a", "90"), ("dept-b", "80")))
    resplit = apportion(pool, scores(("dept-a", "90"), ("dept-c", "70")))
    differences = {
        unit: resplit.get(unit, 0) - paid.get(unit, 0)
        for unit in sorted(set(paid) | set(resplit))
        if resplit.get(unit, 0) != paid.get(unit, 0)
    }
    shown = (await incentives.http.get(f"/v1/allocations/{year}/1")).json()
    first, second = shown["revisions"]
    assert second["pool_fen"] == first["pool_fen"] == pool
    assert {a["unit_id"]: a["fen"] for a in second["awards"]} == differences
    assert {a["kind"] for a in second["awards"]} == {"adjustment"}
    assert {p["unit_id"]: p["fen"] for p in shown["paid"]} == resplit
    fund = (await incentives.http.get(f"/v1/funds/{year}")).json()
    # R6.4: a revision does not count towards k, and the edition still pays its pool once.
    assert (fund["allocated_fen"], fund["editions_settled"]) == (pool, 1)


async def test_an_edition_that_fails_validation_is_dead_lettered_and_allocates_nothing(
    incentives: Incentives, js: Any
) -> None:
    year = 2034
    # Not a fraction: the contract model refuses it (pydantic validation).
    malformed = json.loads(to_wire(edition(year, 1, district=board({"dist-a": "90"}))))
    malformed["categories"]["district"]["rows"][0]["composite"]["exact"] = "ninety"
    await js.publish(EditionPublished.SUBJECT, json.dumps(malformed).encode())
    # Well-formed but self-contradictory: a red-listed unit that is not ranked.
    unranked = edition(year, 1, district=board({"dist-a": "90"}, red=("dist-z",)))
    await publish(js, unranked)

    async def letters() -> list[DeadLetter]:
        wire = await fetch_all(js, "dlq.incentives", "DLQ")
        found = [DeadLetter.model_validate_json(data) for data in wire]
        return [d for d in found if json.loads(d.payload).get("year") == year]

    async def both_parked() -> bool:
        return len(await letters()) == 2

    await eventually(both_parked)
    reasons = sorted(letter.reason for letter in await letters())
    assert all(r.startswith("invalid payload") for r in reasons)
    assert any("exact" in r for r in reasons)
    assert any("dist-z" in r for r in reasons)
    assert (await incentives.http.get(f"/v1/allocations/{year}/1")).status_code == 404
    fund = (await incentives.http.get(f"/v1/funds/{year}")).json()
    assert (fund["allocated_fen"], fund["remaining_fen"], fund["editions_settled"]) == (
        0,
        FUND,
        0,
    )
    assert (await incentives.http.get("/v1/ledger", params={"year": year})).json() == []


async def test_an_edition_that_arrives_before_the_one_before_it_waits_for_it(
    incentives: Incentives, js: Any
) -> None:
    """R6.2: settled strictly in order of first publication, whatever order they arrive in."""
    year = 2036
    second = edition(year, 2, district=board({"dist-a": "90", "dist-b": "80"}, red=("dist-a",)))
    first = edition(year, 1, district=board({"dist-a": "90", "dist-b": "80"}, red=("dist-b",)))
    await publish(js, second)
    await publish(js, first)
    await settled(incentives, year, 2)

    e = planned_editions(year)
    pool_1 = pool_for_edition(FUND, 0, e, 0)
    pool_2 = pool_for_edition(FUND, pool_1, e, 1)  # computed after edition 1, not before
    ledger = (await incentives.http.get("/v1/ledger", params={"year": year})).json()
    assert [(row["edition"], row["unit_id"], row["fen"]) for row in ledger] == [
        (1, "dist-b", pool_1),
        (2, "dist-a", pool_2),
    ]
