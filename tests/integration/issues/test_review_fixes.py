"""Review fixes on the real servers: concurrent registration (R1.2), repeated backfills (R2.1),
imported overdue spells (R5.1), inactive units' history (R1.3), refusals that write nothing."""

from __future__ import annotations

import asyncio
import io
import re
import uuid
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from openpyxl import Workbook

from tests.conftest import Servers

from .conftest import intake, unique

pytestmark = pytest.mark.integration


def outbox(servers: Servers, subject: str, key: str, value: str) -> list[dict[str, Any]]:
    with psycopg.connect(servers.database_url) as conn:
        rows = conn.execute(
            "SELECT convert_from(payload, 'UTF8')::jsonb FROM issues.outbox"
            " WHERE subject = %s AND convert_from(payload, 'UTF8')::jsonb->>%s = %s",
            (subject, key, value),
        ).fetchall()
    return [row[0] for row in rows]


async def test_concurrent_registrations_of_one_new_unit_register_it_once(
    replicas: Callable[[int], Any], servers: Servers
) -> None:
    # R1.2: one registration wins; the other gets the domain's "already registered"
    a, b = await replicas(2)
    ids = [unique("race") for _ in range(10)]
    async with a.client() as ca, b.client() as cb:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/v1/units", json={"unit_id": u, "name": name, "category": "department"}
                )
                for u in ids
                for client, name in ((ca, "甲局"), (cb, "乙局"))
            )
        )
    for i, unit_id in enumerate(ids):
        pair = responses[2 * i : 2 * i + 2]
        assert sorted(r.status_code for r in pair) == [201, 422], [r.text for r in pair]
        loser = next(r for r in pair if r.status_code == 422)
        assert "already registered" in loser.text
        events = outbox(servers, "units.v1.registered", "unit_id", unit_id)
        assert [e["aggregate_version"] for e in events] == [1]
        winner = next(r for r in pair if r.status_code == 201).json()
        assert events[0]["name"] == winner["name"]


def record(unit: str, ledger: str | None, **changes: Any) -> dict[str, Any]:
    body = {
        **intake(unit),
        "found_at": "2018-05-02T09:00:00+08:00",
        "reported_at": "2018-05-02T10:00:00+08:00",
        **changes,
    }
    if ledger is not None:
        body["ledger_number"] = ledger
    return body


async def district(api: httpx.AsyncClient, prefix: str) -> str:
    unit = unique(prefix)
    body = {"unit_id": unit, "name": "区", "category": "district"}
    assert (await api.post("/v1/units", json=body)).status_code == 201
    return unit


async def test_re_uploading_a_backfill_skips_what_was_imported_and_doubles_nothing(
    issues_api: httpx.AsyncClient,
) -> None:
    # R2.1: every record has a key; a record imported before under its key is skipped
    unit = await district(issues_api, "again")
    ledger = [f"{unit}-{n}" for n in (1, 2)]
    body = {"issues": [record(unit, ledger[0]), record(unit, ledger[1])]}
    first = await issues_api.post("/v1/issues/import", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["imported"] == 2 and first.json()["skipped"] == []

    body["issues"].append(record(unit, f"{unit}-3"))
    again = await issues_api.post("/v1/issues/import", json=body)
    assert again.status_code == 201, again.text
    assert again.json()["imported"] == 1
    skipped = again.json()["skipped"]
    assert [(s["row"], s["ledger_number"]) for s in skipped] == [(0, ledger[0]), (1, ledger[1])]
    assert sorted(s["number"] for s in skipped) == sorted(first.json()["numbers"])
    items = (await issues_api.get("/v1/issues", params={"unit_id": unit})).json()["items"]
    assert len(items) == 3

    keyless = await issues_api.post("/v1/issues/import", json={"issues": [record(unit, None)]})
    assert keyless.status_code == 422 and "ledger_number" in keyless.text
    twice = {"issues": [record(unit, f"{unit}-9"), record(unit, f"{unit}-9")]}
    repeated = await issues_api.post("/v1/issues/import", json=twice)
    assert repeated.status_code == 422
    assert [r["row"] for r in repeated.json()["rejected"]] == [1]


async def test_a_repeated_request_id_is_skipped_not_a_server_error(
    issues_api: httpx.AsyncClient,
) -> None:
    # R2.1: a request id already used by a live report or an earlier backfill
    unit = await district(issues_api, "reqid")
    live_id, backfill_id = str(uuid.uuid4()), str(uuid.uuid4())
    live = await issues_api.post("/v1/issues", json=intake(unit, request_id=live_id))
    assert live.status_code == 201
    body = {"issues": [record(unit, None, request_id=backfill_id)]}
    assert (await issues_api.post("/v1/issues/import", json=body)).status_code == 201
    body["issues"].append(record(unit, None, request_id=live_id))
    again = await issues_api.post("/v1/issues/import", json=body)
    assert again.status_code == 201, again.text
    assert again.json()["imported"] == 0
    assert {s["request_id"] for s in again.json()["skipped"]} == {live_id, backfill_id}


async def test_backfilled_overdue_spells_are_published_as_imported(
    issues_api: httpx.AsyncClient, servers: Servers
) -> None:
    # R2.1, R5.1: notify sends no overdue notice for a spell in the historical record
    unit = await district(issues_api, "oldlate")
    fixed = {"kind": "rectified", "at": "2018-05-20T10:00:00+08:00", "evidence": ["https://e/1"]}
    body = {"issues": [record(unit, f"{unit}-1", transitions=[fixed]), record(unit, f"{unit}-2")]}
    done = await issues_api.post("/v1/issues/import", json=body)
    assert done.status_code == 201, done.text
    events = outbox(servers, "issues.v1.overdue", "unit_id", unit)
    assert len(events) == 2 and all(e["imported"] is True for e in events)


async def test_the_history_of_a_unit_deactivated_since_is_imported_when_the_office_says_so(
    issues_api: httpx.AsyncClient,
) -> None:
    # R1.3: the directory keeps no history of the active flag; the office decides explicitly
    unit = await district(issues_api, "gone")
    assert (await issues_api.post(f"/v1/units/{unit}/deactivate")).status_code == 200
    body: dict[str, Any] = {"issues": [record(unit, f"{unit}-1")]}
    refused = await issues_api.post("/v1/issues/import", json=body)
    assert refused.status_code == 422 and "inactive" in refused.text
    body["allow_inactive_units"] = True
    done = await issues_api.post("/v1/issues/import", json=body)
    assert done.status_code == 201, done.text
    csv_text = "unit_id,category,point_type,description,address,found_at,inspector,team," + (
        "reported_at,ledger_number\n"
        f"{unit},占道经营,road,摆摊,江门,2018-05-02T09:00:00+08:00,李四,二组,"
        f"2018-05-02T10:00:00+08:00,{unit}-2\n"
    )
    files = {"file": ("ledger.csv", csv_text.encode(), "text/csv")}
    by_file = await issues_api.post(
        "/v1/issues/import/file", files=files, params={"allow_inactive_units": "true"}
    )
    assert by_file.status_code == 201, by_file.text


async def test_backfill_file_rejections_name_the_line_even_after_blank_rows(
    issues_api: httpx.AsyncClient,
) -> None:
    unit = await district(issues_api, "lines")
    header = "unit_id,category,point_type,description,address,found_at,inspector,team,"
    header += "reported_at,ledger_number"

    def row(unit_id: str, n: int) -> str:
        return (
            f"{unit_id},占道经营,road,摆摊,江门,2018-05-02T09:00:00+08:00,李四,二组,"
            f"2018-05-02T10:00:00+08:00,{unit}-L{n}"
        )

    lines = [header, row(unit, 1), "", ",,,,,,,,,", row("no-such-unit", 2)]
    files = {"file": ("ledger.csv", "\n".join(lines).encode(), "text/csv")}
    refused = await issues_api.post("/v1/issues/import/file", files=files)
    assert refused.status_code == 422
    assert [r["row"] for r in refused.json()["rejected"]] == [5]


async def test_an_xlsx_declaring_a_whole_sheet_is_refused_quickly(
    issues_api: httpx.AsyncClient,
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["unit_id", "name", "category"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<dimension [^>]*/>", b'<dimension ref="A1:XFD1048576"/>', data)
            target.writestr(info.filename, data)
    files = {"file": ("units.xlsx", out.getvalue(), "application/octet-stream")}
    response = await asyncio.wait_for(issues_api.post("/v1/units/import", files=files), 10)
    assert response.status_code == 422
    assert "16384 columns" in response.json()["detail"][0]["msg"]


async def test_adding_a_reinspection_for_a_future_day_writes_nothing(
    issues_api: httpx.AsyncClient, servers: Servers
) -> None:
    # R2.5
    unit = await district(issues_api, "future")
    issue = (await issues_api.post("/v1/issues", json=intake(unit))).json()
    day = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    body = {"date": day, "issue_id": issue["issue_id"], "reason": "群众投诉"}
    refused = await issues_api.post("/v1/reinspections", json=body)
    assert refused.status_code == 422
    with psycopg.connect(servers.database_url) as conn:
        rows = conn.execute(
            "SELECT 1 FROM issues.reinspections WHERE issue_id = %s", (issue["issue_id"],)
        ).fetchall()
    assert rows == []


async def test_a_unit_registered_as_of_a_past_time_is_published_with_that_time(
    issues_api: httpx.AsyncClient, servers: Servers
) -> None:
    """R1.3/R2.1: a city that starts mid-campaign registers its units as of when they joined,
    so editions with earlier cutoffs rank them; a future time is refused and writes nothing."""
    unit = unique("since")
    body = {
        "unit_id": unit,
        "name": "蓬江区",
        "category": "district",
        "registered_at": "2018-03-01T00:00:00+08:00",
    }
    assert (await issues_api.post("/v1/units", json=body)).status_code == 201
    (event,) = outbox(servers, "units.v1.registered", "unit_id", unit)
    assert datetime.fromisoformat(event["occurred_at"]) == datetime(2018, 2, 28, 16, tzinfo=UTC)

    later = unique("later")
    body = {
        "unit_id": later,
        "name": "江海区",
        "category": "district",
        "registered_at": "2999-01-01T00:00:00+08:00",
    }
    refused = await issues_api.post("/v1/units", json=body)
    assert refused.status_code == 422
    assert outbox(servers, "units.v1.registered", "unit_id", later) == []
