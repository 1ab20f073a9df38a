"""The board page's data on real NATS and PostgreSQL (issue 8): ranking records each
``incentives.v1.allocated`` once for the fund, serves the page, its scripts and ECharts itself,
and answers ``GET /v1/board`` without a token unless ``RANKING_BOARD_PUBLIC`` is false."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.contracts.base import to_wire
from services.contracts.incentives import Allocated, UnitAward
from services.ranking.app import build
from services.ranking.fund import FUND_CONSUMER
from services.ranking.settings import DEFAULT_ECHARTS_FILE
from tests.conftest import Servers
from tests.integration.ranking.conftest import ranking_settings
from tests.integration.ranking.support import Ranking, reported, unit

pytestmark = pytest.mark.integration
FUND = 800_000_000
DURABLE = "ranking-incentives-v1-allocated"


def allocated(
    year: int, edition: int, awards: dict[str, int], allocated_total: int, revision: int = 1
) -> Allocated:
    return Allocated(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        producer="incentives",
        aggregate_id=f"fund-{year}",
        aggregate_version=edition,
        year=year,
        edition=edition,
        revision=revision,
        rule_version="v1",
        pool=sum(awards.values()),
        awards=[UnitAward(unit_id=u, fen=f, kind="allocation") for u, f in awards.items()],
        fund=FUND,
        allocated_total=allocated_total,
        remaining=FUND - allocated_total,
    )


async def settled(ranking: Ranking) -> None:
    """Until ranking's fund consumer has acknowledged everything on INCENTIVES."""
    for _ in range(300):
        info = await ranking.js.consumer_info("INCENTIVES", DURABLE)
        if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("ranking did not apply incentives.v1.allocated")


async def board(ranking: Ranking, **params: Any) -> dict[str, Any]:
    response = await ranking.client.get("/v1/board", params=params, headers={})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_fund_is_recorded_once_per_settlement_and_shown_per_unit(
    ranking: Ranking,
) -> None:
    year = 2041  # a year of its own: other tests of this module publish 2018's editions
    tag = uuid.uuid4().hex[:6]
    d1, d2 = f"fund-{tag}-1", f"fund-{tag}-2"
    when = datetime(year, 3, 1, tzinfo=UTC)
    seq = await ranking.publish(unit(d1, when), unit(d2, when))
    await ranking.caught_up("ISSUES", seq, when)
    first = allocated(year, 1, {d1: 6_000_000, d2: 9_000_000}, 15_000_000)
    await ranking.publish(first)
    await settled(ranking)
    # A redelivery (same event id, past JetStream's duplicate window) and a second event for
    # the same edition revision change nothing (R6.4: a revision is booked once).
    await ranking.js.publish(
        Allocated.SUBJECT, to_wire(first), headers={"Nats-Msg-Id": str(uuid.uuid4())}
    )
    await ranking.publish(allocated(year, 1, {d1: 15_000_000}, 15_000_000))
    await ranking.publish(allocated(year, 2, {d1: 5_000_000}, 20_000_000))
    await settled(ranking)

    fund = (await board(ranking, year=year))["fund"]
    assert (fund["fund_fen"], fund["allocated_fen"], fund["remaining_fen"]) == (
        FUND,
        20_000_000,
        FUND - 20_000_000,
    )
    assert fund["editions_settled"] == 2
    assert fund["last_settlement"] == {"edition": 2, "revision": 1}
    assert fund["units"] == [
        {"unit_id": d1, "fen": 11_000_000, "name": f"单位{d1[-4:]}", "category": "department"},
        {"unit_id": d2, "fen": 9_000_000, "name": f"单位{d2[-4:]}", "category": "department"},
    ]
    async with ranking.runtime.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM processed_events WHERE consumer = %s", (FUND_CONSUMER,)
        )
        row = await cur.fetchone()
    assert row is not None and row["n"] == 3  # the redelivered id is not recorded twice

    assert (await board(ranking, year=year + 1))["fund"] == {"year": year + 1, "settled": False}


async def test_the_board_has_the_latest_edition_trends_and_overdue_now(ranking: Ranking) -> None:
    tag = uuid.uuid4().hex[:6]
    late = f"late-{tag}"
    found = datetime.now(UTC) - timedelta(days=10)
    issue = reported(late, found, 1)  # deadline found + 3 days: overdue now (R2.4)
    seq = await ranking.publish(unit(late, found - timedelta(days=1)), issue)
    cutoff = datetime.now(UTC) - timedelta(seconds=1)
    await ranking.caught_up("ISSUES", seq, cutoff)
    published = await ranking.client.post("/v1/editions", json={"cutoff": cutoff.isoformat()})
    assert published.status_code == 200, published.text

    data = await board(ranking)
    edition = data["edition"]
    latest = published.json()
    assert (edition["year"], edition["number"]) == (latest["year"], latest["number"])
    assert set(edition["categories"]) == {"department", "district", "town"}
    trends = data["trends"]
    assert trends["editions"][-1]["number"] == latest["number"]
    mine = [u for u in trends["units"] if u["unit_id"] == late]
    assert mine and mine[0]["rates"][-1] == "0.00"
    assert len(trends["categories"]["department"]) == len(trends["editions"])
    overdue = {u["unit_id"]: u for u in data["overdue"]["units"]}
    assert overdue[late]["overdue"] == 1 and data["overdue"]["total"] >= 1
    assert len((await board(ranking, editions=1))["trends"]["editions"]) == 1


async def test_the_page_and_its_scripts_are_served_by_ranking_itself(ranking: Ranking) -> None:
    page = await ranking.client.get("/board", headers={})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "/board/static/echarts.min.js" in page.text and "http" not in page.text
    script = await ranking.client.get("/board/static/board.js")
    assert script.status_code == 200 and "/v1/board" in script.text
    assert (await ranking.client.get("/board/static/board.css")).status_code == 200
    assert (await ranking.client.get("/board/static/..%2Fapi.py")).status_code == 404
    echarts = await ranking.client.get("/board/static/echarts.min.js")
    if DEFAULT_ECHARTS_FILE.is_file():
        assert echarts.status_code == 200 and "echarts" in echarts.text[:2000].lower()
    else:
        assert echarts.status_code == 404 and "make install" in echarts.text


async def test_a_private_board_needs_a_readers_token(own_servers: Servers) -> None:
    settings = ranking_settings(own_servers).model_copy(update={"board_public": False})
    app, _ = build(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ranking") as client:
        refused = await client.get("/v1/board")
        assert refused.status_code == 401
        assert (await client.get("/board")).status_code == 200  # the page asks for a token
