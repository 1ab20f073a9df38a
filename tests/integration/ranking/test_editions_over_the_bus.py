"""Editions on real NATS and PostgreSQL: revisions for late events (R4.1), the read API, the
weekly schedule and the rebuild that recomputes every stored edition byte for byte (R7)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.ranking import rebuild as rebuild_command
from services.ranking.rule_book import load_rule_book
from tests.conftest import Servers
from tests.integration.ranking.conftest import ranking_settings, running
from tests.integration.ranking.support import Ranking, rectified, reported, unit

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")
CUTOFF = datetime(2018, 6, 4, tzinfo=SHANGHAI)
MAY = datetime(2018, 5, 2, 9, tzinfo=SHANGHAI)


def _ids(prefix: str, n: int) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [f"{prefix}-{tag}-{i}" for i in range(1, n + 1)]


async def test_late_event_before_the_cutoff_makes_a_new_revision(ranking: Ranking) -> None:
    # R4.1: same inputs -> same edition; an event that occurred before the cutoff but arrived
    # after publication -> a new revision of the same number when republished.
    d1, d2, d3 = _ids("late", 3)
    issues = {u: [reported(u, MAY, i) for i in range(2)] for u in (d1, d2, d3)}
    seq = await ranking.publish(
        *(unit(u, MAY - timedelta(days=1)) for u in (d1, d2, d3)),
        *(i for batch in issues.values() for i in batch),
        *(rectified(i, MAY + timedelta(days=1)) for i in issues[d1]),
        rectified(issues[d2][0], MAY + timedelta(days=1)),
    )
    await ranking.caught_up("ISSUES", seq, CUTOFF)
    first = (await ranking.client.post("/v1/editions", json={"cutoff": CUTOFF.isoformat()})).json()
    again = (await ranking.client.post("/v1/editions", json={"cutoff": CUTOFF.isoformat()})).json()
    assert (again["number"], again["revision"], again["created"]) == (first["number"], 1, False)

    late = await ranking.publish(rectified(issues[d3][0], CUTOFF - timedelta(days=1)))
    await ranking.caught_up("ISSUES", late, CUTOFF)
    revised = (
        await ranking.client.post("/v1/editions", json={"cutoff": CUTOFF.isoformat()})
    ).json()
    assert (revised["number"], revised["revision"]) == (first["number"], 2)
    assert revised["input_positions"]["ISSUES"] >= late > first["input_positions"]["ISSUES"]
    rows = {r["unit_id"]: r for r in revised["categories"]["department"]["rows"]}
    assert rows[d3]["rate"] == {"exact": "1/2", "display": "50.00"}

    # Read API: latest revision by default, any revision on request, per-unit history, rates.
    path = f"/v1/editions/2018/{first['number']}"
    viewer = {"Authorization": "Bearer dev-viewer"}
    assert (await ranking.client.get(path, headers=viewer)).json()["revision"] == 2
    old = (await ranking.client.get(f"{path}?revision=1", headers=viewer)).json()
    assert {r["unit_id"]: r for r in old["categories"]["department"]["rows"]}[d3]["rate"][
        "exact"
    ] == "0/1"
    history = (await ranking.client.get(f"/v1/units/{d3}/history", headers=viewer)).json()
    assert [(e["number"], e["revision"]) for e in history["editions"]] == [(first["number"], 2)]
    assert history["editions"][0]["rate"]["exact"] == "1/2"
    rates = await ranking.client.get(
        "/v1/rates", params={"at": (CUTOFF - timedelta(days=2)).isoformat()}, headers=viewer
    )
    by_unit = {u["unit_id"]: u for u in rates.json()["units"]}
    assert by_unit[d3]["rectified"] == 0 and by_unit[d1]["rate"]["exact"] == "1/1"


async def test_readers_may_read_but_only_the_office_publishes(ranking: Ranking) -> None:
    body = {"cutoff": CUTOFF.isoformat()}
    viewer = {"Authorization": "Bearer dev-viewer"}
    assert (await ranking.client.post("/v1/editions", json=body, headers=viewer)).status_code == 403
    assert (
        await ranking.client.post("/v1/editions", json=body, headers={"Authorization": ""})
    ).status_code == 401
    assert (await ranking.client.get("/v1/editions/latest", headers=viewer)).status_code in (
        200,
        404,
    )


async def test_schedule_publishes_each_due_cutoff_once_and_skips_an_empty_campaign(
    ranking: Ranking,
) -> None:
    # R4.1: nothing ranked before the campaign's first events: nothing published.
    skipped = await ranking.schedule.run_once(datetime(2017, 1, 9, 3, tzinfo=SHANGHAI))
    assert skipped is not None and skipped.get("skipped")
    (d1,) = _ids("sched", 1)
    issue = reported(d1, datetime(2018, 6, 12, 9, tzinfo=SHANGHAI), 1)
    seq = await ranking.publish(unit(d1, MAY), issue)
    due = datetime(2018, 6, 18, tzinfo=SHANGHAI)
    await ranking.caught_up("ISSUES", seq, due)
    # Inside the grace delay the previous Monday is still the due one.
    assert ranking.schedule.due_cutoff(due + timedelta(hours=1)) == due - timedelta(weeks=1)
    published = await ranking.schedule.run_once(due + timedelta(hours=2))
    assert published is not None and published["created"] is True
    assert any(r["unit_id"] == d1 for r in published["categories"]["department"]["rows"])
    assert await ranking.schedule.run_once(due + timedelta(hours=3)) is None


async def test_rebuild_recomputes_every_stored_edition_identically(own_servers: Servers) -> None:
    (d1,) = _ids("rebuild", 1)
    cutoff = CUTOFF + timedelta(weeks=3)
    async with running(own_servers) as ranking:
        seq = await ranking.publish(unit(d1, MAY), reported(d1, MAY, 7))
        await ranking.caught_up("ISSUES", seq, cutoff)
        await ranking.client.post("/v1/editions", json={"cutoff": cutoff.isoformat()})
        await _relayed(ranking)
    # The command runs with the service stopped.
    settings = ranking_settings(own_servers)

    report = await rebuild_command.rebuild(settings, load_rule_book(settings.rules_file))

    assert report.differences == []
    assert report.editions >= 1 and report.replayed["ISSUES"] >= seq
    async with running(own_servers) as ranking:  # the rebuilt service serves what was stored
        latest = (await ranking.client.get("/v1/editions/latest")).json()
        assert latest["cutoff"] == "2018-06-24T16:00:00Z"


async def test_rebuild_reports_an_edition_that_the_log_does_not_reproduce(
    own_servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(own_servers) as ranking:
        latest = (await ranking.client.get("/v1/editions/latest")).json()
        forged = {**latest, "event_id": str(uuid.uuid4()), "revision": latest["revision"] + 1}
        forged["aggregate_version"] = forged["revision"]
        forged["campaign"] = {**latest["campaign"], "reported": latest["campaign"]["reported"] + 1}
        await ranking.js.publish("ranking.v1.edition_published", json.dumps(forged).encode())
    monkeypatch.setenv("RANKING_NATS_URL", own_servers.nats_url)
    monkeypatch.setenv("RANKING_DATABASE_URL", own_servers.database_url)
    monkeypatch.setenv("RANKING_AUTH_MODE", "dev")

    code = await asyncio.to_thread(rebuild_command.main, [])

    assert code == 1


async def _relayed(ranking: Ranking) -> None:
    """Wait until the outbox is empty (the edition and its rate report are on RANKING)."""
    for _ in range(200):
        async with ranking.runtime.pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            row = await cur.fetchone()
        if row is not None and row["n"] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox relay did not publish the edition")
