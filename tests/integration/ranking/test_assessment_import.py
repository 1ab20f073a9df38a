"""Assessment scores through the API (R4.2): a file import is all or nothing, a backfill keeps
its original recorded time, and both reach the projection through the ASSESSMENTS stream."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.integration.ranking.support import Ranking, unit

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")
CUTOFF = datetime(2018, 6, 4, tzinfo=SHANGHAI)


def _file(text: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("scores.csv", text.encode(), "text/csv")}


async def test_an_import_with_one_bad_row_records_nothing(ranking: Ranking) -> None:
    tag = uuid.uuid4().hex[:6]
    seq = await ranking.publish(unit(f"imp-{tag}-a", datetime(2018, 4, 1, tzinfo=SHANGHAI)))
    await ranking.caught_up("ISSUES", seq, CUTOFF)  # the import checks the unit is known
    text = f"unit_id,month,score\nimp-{tag}-a,2018-05,88\nimp-{tag}-b,2018-05,abc\n"
    before = (await ranking.js.stream_info("ASSESSMENTS")).state.last_seq

    response = await ranking.client.post("/v1/assessments/import", files=_file(text))

    assert response.status_code == 422
    assert [(r["row"], r["ok"]) for r in response.json()["rows"]] == [(2, True), (3, False)]
    assert response.json()["rows"][1]["errors"][0]["field"] == "score"
    async with ranking.runtime.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM outbox WHERE payload::text LIKE %s", (f"%imp-{tag}%",)
        )
        row = await cur.fetchone()
    assert row is not None and row["n"] == 0
    assert (await ranking.js.stream_info("ASSESSMENTS")).state.last_seq == before


async def test_a_backfilled_score_counts_from_its_original_recorded_time(ranking: Ranking) -> None:
    # R4.2: a score recorded at or before T is used at T; the backfill keeps that time.
    dept = f"imp-{uuid.uuid4().hex[:6]}"
    seq = await ranking.publish(unit(dept, datetime(2018, 4, 1, tzinfo=SHANGHAI)))
    await ranking.caught_up("ISSUES", seq, CUTOFF)  # the import checks the unit is known
    text = f"unit_id,month,score,recorded_at\n{dept},2018-05,91.5,2018-05-31T18:00:00+08:00\n"
    imported = await ranking.client.post("/v1/assessments/import", files=_file(text))
    assert imported.status_code == 202, imported.text
    assert imported.json()["recorded"] == 1
    unit_only = await ranking.client.post(
        "/v1/assessments",
        json={"unit_id": dept, "month": "2018-06", "score": "120"},
    )
    assert unit_only.status_code == 422  # R4.2: 0-100

    cutoff = datetime(2018, 6, 4, tzinfo=SHANGHAI)
    await ranking.caught_up("ISSUES", seq, cutoff)
    scores = await _stream_end(ranking, "ASSESSMENTS")
    preview = await ranking.caught_up("ASSESSMENTS", scores, cutoff)
    rows = {r["unit_id"]: r for r in preview["categories"]["department"]["rows"]}
    assert rows[dept]["score"] == {"exact": "183/2", "display": "91.50", "month": "2018-05"}
    earlier = datetime(2018, 5, 28, tzinfo=SHANGHAI)  # before it was recorded: not used
    preview = await ranking.caught_up("ISSUES", seq, earlier)
    assert dept not in {r["unit_id"] for r in preview["categories"]["department"]["rows"]}


async def test_only_the_office_records_scores(ranking: Ranking) -> None:
    body = {"unit_id": "dept-x", "month": "2018-05", "score": "80"}
    for token, status in (("dev-viewer", 403), ("dev-unit-dept-x", 403), ("nope", 401)):
        response = await ranking.client.post(
            "/v1/assessments", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == status


async def _stream_end(ranking: Ranking, stream: str) -> int:
    """The last sequence of ``stream`` once the outbox relay has published what was staged."""
    for _ in range(200):
        async with ranking.runtime.pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            row = await cur.fetchone()
        if row is not None and row["n"] == 0:
            break
        await asyncio.sleep(0.05)
    return int((await ranking.js.stream_info(stream)).state.last_seq)


async def test_a_future_recorded_time_or_an_unknown_unit_is_refused(ranking: Ranking) -> None:
    # R4.2: a score counts from when it was recorded; one "recorded" in the future would enter
    # editions before it existed. A unit the directory does not know would never be ranked.
    now = datetime(2018, 6, 1, 12, tzinfo=SHANGHAI)
    ranking.schedule.editions.now = lambda: now  # the service's clock
    dept = f"imp-{uuid.uuid4().hex[:6]}"
    seq = await ranking.publish(unit(dept, datetime(2018, 4, 1, tzinfo=SHANGHAI)))
    await ranking.caught_up("ISSUES", seq, CUTOFF)
    body = {"unit_id": dept, "month": "2018-05", "score": "80"}

    future = await ranking.client.post(
        "/v1/assessments", json={**body, "recorded_at": "2018-06-01T12:00:01+08:00"}
    )
    unknown = await ranking.client.post("/v1/assessments", json={**body, "unit_id": f"{dept}-typo"})

    assert future.status_code == 422, future.text
    assert future.json()["detail"][0]["loc"] == ["body", "recorded_at"]
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["detail"][0]["loc"] == ["body", "unit_id"]
    assert "unknown unit" in unknown.json()["detail"][0]["msg"]
    text = (
        "unit_id,month,score,recorded_at\n"
        f"{dept},2018-05,80,2018-06-01 12:00\n"
        f"{dept},2018-04,80,2018-06-02 09:00\n"
        f"{dept}-typo,2018-05,80,\n"
    )
    imported = await ranking.client.post("/v1/assessments/import", files=_file(text))
    assert imported.status_code == 422, imported.text
    report = {r["row"]: r for r in imported.json()["rows"]}
    assert report[2]["ok"] is True
    assert [e["field"] for e in report[3]["errors"]] == ["recorded_at"]
    assert [e["field"] for e in report[4]["errors"]] == ["unit_id"]
    recorded = await ranking.client.post(
        "/v1/assessments", json={**body, "recorded_at": "2018-06-01T12:00:00+08:00"}
    )
    assert recorded.status_code == 202, recorded.text
