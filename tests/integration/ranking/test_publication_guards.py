"""What keeps a wrong edition from being published (R4.1, R6.2, R7): a cutoff that has not
passed, a projection that has not caught up with its input streams (a fresh replica, a message
dead-lettered after max_deliver), and a rebuild whose replay stopped early."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from services.contracts.streams import ISSUES
from services.contracts.units import UnitRegistered
from services.ranking.editions import EditionsService
from services.ranking.projection import input_positions, mark_handled
from services.runtime import stream_replay
from services.runtime.stream_replay import ReplayIncomplete
from tests.integration.ranking.support import Ranking, rectified, reported, unit

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")
MAY = datetime(2018, 5, 2, 9, tzinfo=SHANGHAI)


def _editions(ranking: Ranking) -> EditionsService:
    return ranking.schedule.editions


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


async def _ranked_unit(ranking: Ranking, cutoff: datetime) -> str:
    """A department with one rectified issue before ``cutoff``, applied by the projection."""
    dept = _id("guard")
    issue = reported(dept, MAY, 1)
    seq = await ranking.publish(unit(dept, MAY), issue, rectified(issue, MAY + timedelta(days=1)))
    await ranking.caught_up("ISSUES", seq, cutoff)
    return dept


async def test_a_future_cutoff_is_refused_and_its_preview_is_marked(ranking: Ranking) -> None:
    # R4.1 / R6.2: the reviewer's case: a cutoff after now made edition 1 of its year, and
    # incentives settled its pool.
    now = datetime(2018, 6, 6, 12, tzinfo=SHANGHAI)
    _editions(ranking).now = lambda: now
    await _ranked_unit(ranking, now)
    future = {"cutoff": (now + timedelta(minutes=1)).isoformat()}

    refused = await ranking.client.post("/v1/editions", json=future)

    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["detail"]
    assert error["loc"] == ["body", "cutoff"] and "in the future" in error["msg"]
    forced = await ranking.client.post("/v1/editions", json={**future, "force": True})
    assert forced.status_code == 422
    async with ranking.runtime.pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) AS n FROM editions WHERE cutoff > %s", (now,))
        row = await cur.fetchone()
    assert row is not None and row["n"] == 0
    preview = await ranking.client.post("/v1/editions/preview", json=future)
    assert preview.status_code == 200
    assert preview.json()["cutoff_in_future"] is True and "provisional" in preview.json()["note"]
    past = await ranking.client.post("/v1/editions", json={"cutoff": now.isoformat()})
    assert past.status_code == 200 and past.json()["created"] is True
    # The real clock too, when no test sets it.
    _editions(ranking).now = lambda: datetime.now(UTC)
    tomorrow = {"cutoff": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
    assert (await ranking.client.post("/v1/editions", json=tomorrow)).status_code == 422


async def test_publish_waits_for_events_already_on_the_streams(ranking: Ranking) -> None:
    # A replica that has not applied everything yet must not publish revision 1 (R6.2) from
    # it: publication waits until the positions reach the streams' last sequences.
    cutoff = datetime(2018, 6, 11, tzinfo=SHANGHAI)
    depts = [_id("wait") for _ in range(20)]
    last = await ranking.publish(
        *(unit(d, MAY) for d in depts), *(reported(d, MAY, i) for i, d in enumerate(depts))
    )

    published = await ranking.client.post("/v1/editions", json={"cutoff": cutoff.isoformat()})

    assert published.status_code == 200, published.text
    assert published.json()["input_positions"]["ISSUES"] >= last
    rows = {r["unit_id"] for r in published.json()["categories"]["department"]["rows"]}
    assert set(depts) <= rows


async def test_a_held_back_position_refuses_publication_until_the_office_forces_it(
    ranking: Ranking, caplog: pytest.LogCaptureFixture
) -> None:
    # docs/decisions.md: a message dead-lettered after max_deliver holds the position back.
    # Simulated here by taking the last applied sequence back out of the watermark.
    editions = _editions(ranking)
    editions.catch_up_seconds = 0.3
    cutoff = datetime(2018, 6, 18, tzinfo=SHANGHAI)  # a scheduled Monday
    await _ranked_unit(ranking, cutoff)
    async with ranking.runtime.transaction() as conn:
        stuck = (await input_positions(conn))["ISSUES"]
        await conn.execute(
            "UPDATE input_positions SET watermark = %s WHERE stream = 'ISSUES'", (stuck - 1,)
        )
    try:
        body = {"cutoff": cutoff.isoformat()}
        refused = await ranking.client.post("/v1/editions", json=body)
        assert refused.status_code == 409, refused.text
        assert refused.json()["behind"] == {"ISSUES": 1}
        assert "force" in refused.json()["detail"]

        caplog.set_level(logging.WARNING, logger="services.ranking.scheduler")
        assert await ranking.schedule.run_once(cutoff + timedelta(hours=2)) is None
        held = [r for r in caplog.records if "held back" in r.getMessage()]
        assert held and held[0].levelno == logging.WARNING
        assert _metric("chuangwen_ranking_scheduled_edition_held_back") == 1
        assert _metric("chuangwen_ranking_projection_behind_messages", stream="ISSUES") == 1

        forced = await ranking.client.post("/v1/editions", json={**body, "force": True})
        assert forced.status_code == 200, forced.text
        assert forced.json()["created"] is True and forced.json()["forced"] is True
        assert forced.json()["behind"] == {"ISSUES": 1}
        assert forced.json()["input_positions"]["ISSUES"] == stuck - 1
        # The schedule finds the cutoff published and stops holding it back.
        done = await ranking.schedule.run_once(cutoff + timedelta(hours=3))
        assert done is not None and done["number"] == forced.json()["number"]
        assert _metric("chuangwen_ranking_scheduled_edition_held_back") == 0
    finally:
        async with ranking.runtime.transaction() as conn:  # the message is "replayed"
            await mark_handled(conn, ISSUES.name, stuck)


async def test_the_schedule_is_not_held_back_by_traffic_that_arrives_while_it_checks(
    ranking: Ranking, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under steady traffic a message arrives (and is applied) between the two reads: comparing
    # positions read *before* the stream's last sequence made the projection look behind.
    cutoff = datetime(2018, 6, 25, tzinfo=SHANGHAI)
    dept = await _ranked_unit(ranking, cutoff)
    stream_info = JetStreamContext.stream_info

    async def with_traffic(js: JetStreamContext, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == ISSUES.name:
            seq = await ranking.publish(unit(_id("traffic"), MAY))
            await _applied(ranking, seq)
        return await stream_info(js, name, *args, **kwargs)

    monkeypatch.setattr(JetStreamContext, "stream_info", with_traffic)

    published = await ranking.schedule.run_once(cutoff + timedelta(hours=2))

    assert published is not None and published["created"] is True
    assert dept in {r["unit_id"] for r in published["categories"]["department"]["rows"]}


async def test_a_whole_stream_replay_that_stops_early_fails(
    ranking: Ranking, monkeypatch: pytest.MonkeyPatch
) -> None:
    # R7: a fetch timeout in the middle of ISSUES is not its end; a rebuild from a truncated
    # replay would leave a truncated projection.
    await ranking.publish(unit(_id("replay"), MAY), unit(_id("replay"), MAY))
    monkeypatch.setattr(stream_replay, "BATCH", 1)
    monkeypatch.setattr(stream_replay, "FETCH_SECONDS", 0.1)
    js: JetStreamContext = ranking.js
    subscribe = js.pull_subscribe

    async def stalling(*args: Any, **kwargs: Any) -> Any:
        sub = await subscribe(*args, **kwargs)
        fetch, calls = sub.fetch, 0

        async def fetch_once(*a: Any, **k: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls > 1:
                raise TimeoutError
            return await fetch(*a, **k)

        sub.fetch = fetch_once  # type: ignore[method-assign]
        return sub

    monkeypatch.setattr(js, "pull_subscribe", stalling)

    with pytest.raises(ReplayIncomplete, match=r"stopped at #1 of #\d+"):
        _ = [message async for message in stream_replay.stream_messages(js, ISSUES)]
    # Nor is it the end of a subject: a filtered replay reads up to the subject's last message.
    units = stream_replay.stream_messages(js, ISSUES, UnitRegistered.SUBJECT)
    with pytest.raises(ReplayIncomplete, match=r"stopped at #\d+ of #\d+"):
        _ = [message async for message in units]
    # A subject filter may legitimately end before the stream's last sequence.
    edition_messages = stream_replay.stream_messages(js, ISSUES, "issues.v1.nothing-here")
    assert [m async for m in edition_messages] == []


async def _applied(ranking: Ranking, seq: int) -> None:
    for _ in range(200):
        async with ranking.runtime.pool.connection() as conn:
            if (await input_positions(conn)).get(ISSUES.name, 0) >= seq:
                return
        await asyncio.sleep(0.02)
    raise AssertionError(f"ISSUES #{seq} was not applied")


def _metric(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)
