"""R1 directory imports, R2.3/R2.6 lifecycle with roles, R2.1 backfill, queries, R2.5 draws."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from .conftest import Issues, intake, unique

pytestmark = pytest.mark.integration


def csv_file(lines: list[str]) -> dict[str, Any]:
    return {"file": ("units.csv", "\n".join(lines).encode(), "text/csv")}


async def test_a_units_csv_with_bad_rows_imports_nothing_and_reports_every_bad_row(
    issues_api: httpx.AsyncClient,
) -> None:
    dist, town, dept = unique("dist"), unique("town"), unique("dept")
    lines = [
        "unit_id,name,category,parent_id",
        f"{town},荷塘镇,town,{dist}",  # before its district: fine
        f"{dist},蓬江区,district,",
        "Bad_Id,坏单位,department,",
        f"{dept},,department,",
        f"{unique('town')},无区镇,town,no-such-dist",
        f"{dist},重复,district,",
    ]
    response = await issues_api.post("/v1/units/import", files=csv_file(lines))
    assert response.status_code == 422
    rejected = {r["row"]: r for r in response.json()["rejected"]}
    assert sorted(rejected) == [4, 5, 6, 7]
    assert rejected[4]["errors"][0]["path"] == "unit_id"
    assert rejected[5]["errors"][0]["path"] == "name"
    assert "no-such-dist" in rejected[6]["errors"][0]["message"]
    assert "repeats row 3" in rejected[7]["errors"][0]["message"]
    listed = {u["unit_id"] for u in (await issues_api.get("/v1/units")).json()}
    assert not listed & {dist, town, dept}

    good = await issues_api.post("/v1/units/import", files=csv_file(lines[:3]))
    assert good.json() == {"imported": 2, "registered": 2, "updated": 0, "unchanged": 0}
    again = await issues_api.post("/v1/units/import", files=csv_file(lines[:3]))
    assert again.json()["unchanged"] == 2


async def test_a_units_xlsx_is_imported_like_a_csv(issues_api: httpx.AsyncClient) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    dept = unique("dept")
    sheet.append(["unit_id", "name", "category", "parent_id"])
    sheet.append([dept, "市城管局", "department", None])
    buffer = io.BytesIO()
    book.save(buffer)
    files = {"file": ("units.xlsx", buffer.getvalue(), "application/octet-stream")}
    response = await issues_api.post("/v1/units/import", files=files)
    assert response.json()["registered"] == 1, response.text


async def test_units_change_over_http_and_only_the_office_may_change_them(
    issues_service: Issues,
) -> None:
    dept = unique("dept")
    async with issues_service.client() as office, issues_service.client("dev-viewer") as viewer:
        body = {"unit_id": dept, "name": "市城管局", "category": "department"}
        assert (await viewer.post("/v1/units", json=body)).status_code == 403
        assert (await office.post("/v1/units", json=body)).status_code == 201
        renamed = await office.put(
            f"/v1/units/{dept}", json={"name": "市城市管理局", "category": "department"}
        )
        assert (renamed.json()["name"], renamed.json()["version"]) == ("市城市管理局", 2)
        off = await office.post(f"/v1/units/{dept}/deactivate")
        assert off.json()["active"] is False
        twice = await office.post(f"/v1/units/{dept}/deactivate")
        assert twice.status_code == 409
        on = await office.post(f"/v1/units/{dept}/reactivate")
        assert (on.json()["active"], on.json()["version"]) == (True, 4)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=issues_service.app), base_url="http://issues"
    ) as anonymous:
        missing = await anonymous.get("/v1/units")
        assert missing.status_code == 401 and "bearer" in missing.json()["detail"]


async def test_lifecycle_respects_roles_states_and_the_district_reads_its_towns(
    issues_service: Issues,
) -> None:
    dist, town, other = unique("dist"), unique("town"), unique("dept")
    async with issues_service.client() as office:
        for body in (
            {"unit_id": dist, "name": "蓬江区", "category": "district"},
            {"unit_id": town, "name": "荷塘镇", "category": "town", "parent_id": dist},
            {"unit_id": other, "name": "市城管局", "category": "department"},
        ):
            assert (await office.post("/v1/units", json=body)).status_code == 201
        issue = (await office.post("/v1/issues", json=intake(town))).json()
        path = f"/v1/issues/{issue['issue_id']}"
        evidence = {"evidence": ["https://photos.example/fixed.jpg"]}
        async with (
            issues_service.client(f"dev-unit-{town}") as owner,
            issues_service.client(f"dev-unit-{dist}") as district,
            issues_service.client(f"dev-unit-{other}") as stranger,
            issues_service.client("dev-inspector") as inspector,
        ):
            assert (await district.get(path)).status_code == 200  # reads its town's issue
            assert (await stranger.get(path)).status_code == 403
            assert (await district.post(f"{path}/rectification", json=evidence)).status_code == 403
            listed = await district.get("/v1/issues", params={"unit_id": town})
            assert [i["issue_id"] for i in listed.json()["items"]] == [issue["issue_id"]]
            early = await inspector.post(f"{path}/inspection", json={"result": "pass"})
            assert early.status_code == 409 and early.json()["current_state"] == "open"
            assert (await owner.post(f"{path}/rectification", json={})).status_code == 422
            assert (await owner.post(f"{path}/rectification", json=evidence)).status_code == 200
            failed = await inspector.post(f"{path}/inspection", json={"result": "fail"})
            assert failed.json()["rework_count"] == 1
            later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
            ask = {"deadline": later, "reason": "需要施工"}
            assert (await owner.post(f"{path}/extension", json=ask)).status_code == 200
        decided = await office.post(f"{path}/extension/decision", json={"approved": True})
        assert datetime.fromisoformat(decided.json()["deadline"]) == datetime.fromisoformat(later)
        moved = await office.post(f"{path}/transfer", json={"unit_id": other, "reason": "职责"})
        assert moved.json()["unit_id"] == other
        voided = await office.post(f"{path}/void", json={"reason": "重复"})
        assert voided.json()["state"] == "void"
        history = (await office.get(f"{path}/history")).json()
        assert [h["kind"] for h in history] == [
            "reported",
            "rectified",
            "inspection_fail",
            "extension_requested",
            "extension_approved",
            "transferred",
            "voided",
        ]
        assert history[1]["actor"] == f"dev-unit-{town}"


async def test_issue_queries_page_by_keyset_without_repeats(issues_api: httpx.AsyncClient) -> None:
    unit = unique("page")
    await issues_api.post("/v1/units", json={"unit_id": unit, "name": "区", "category": "district"})
    for _ in range(5):
        await issues_api.post("/v1/issues", json=intake(unit))
    seen: list[str] = []
    params: dict[str, Any] = {"unit_id": unit, "limit": 2}
    while True:
        page = (await issues_api.get("/v1/issues", params=params)).json()
        seen += [i["issue_id"] for i in page["items"]]
        if page["next"] is None:
            break
        params["after"] = page["next"]
    assert len(seen) == len(set(seen)) == 5
    overdue = await issues_api.get("/v1/issues", params={"unit_id": unit, "overdue": True})
    assert len(overdue.json()["items"]) == 5  # found in 2018: long past the deadline
    bad = await issues_api.get("/v1/issues", params={"status": "closed", "limit": 0})
    assert {e["loc"][-1] for e in bad.json()["detail"]} == {"status", "limit"}


def record(unit: str, **changes: Any) -> dict[str, Any]:
    return {
        **intake(unit),
        "found_at": "2018-05-02T09:00:00+08:00",
        "reported_at": "2018-05-02T10:00:00+08:00",
        "ledger_number": f"L-{uuid.uuid4().hex[:12]}",  # R2.1: every record has a key
        **changes,
    }


async def test_a_backfill_with_one_broken_history_imports_nothing(
    issues_api: httpx.AsyncClient,
) -> None:
    unit = unique("hist")
    await issues_api.post("/v1/units", json={"unit_id": unit, "name": "区", "category": "district"})
    fixed = {"kind": "rectified", "at": "2018-05-03T10:00:00+08:00", "evidence": ["https://e/1"]}
    passed = {"kind": "pass", "at": "2018-05-04T10:00:00+08:00"}
    good = record(unit, transitions=[fixed, passed])
    broken = record(unit, transitions=[passed])  # R2.3: a pass needs a rectification first
    refused = await issues_api.post("/v1/issues/import", json={"issues": [good, broken]})
    assert refused.status_code == 422
    assert [r["row"] for r in refused.json()["rejected"]] == [1]
    none = await issues_api.get("/v1/issues", params={"unit_id": unit})
    assert none.json()["items"] == []

    done = await issues_api.post("/v1/issues/import", json={"issues": [good, record(unit)]})
    assert done.status_code == 201, done.text
    items = (await issues_api.get("/v1/issues", params={"unit_id": unit})).json()["items"]
    assert {(i["state"], i["imported"]) for i in items} == {("verified", True), ("open", True)}
    assert all(i["number"].startswith("JM-2018-") for i in items)


async def test_the_daily_draw_is_stored_and_the_office_can_add_issues(
    issues_api: httpx.AsyncClient,
) -> None:
    unit = unique("draw")
    await issues_api.post("/v1/units", json={"unit_id": unit, "name": "区", "category": "district"})
    issue = (await issues_api.post("/v1/issues", json=intake(unit))).json()
    day = "2018-06-05"
    first = (await issues_api.get("/v1/reinspections", params={"date": day})).json()
    again = (await issues_api.get("/v1/reinspections", params={"date": day})).json()
    assert first == again and first["seed"].endswith(":2018-06-05")
    body = {"date": day, "issue_id": issue["issue_id"], "reason": "群众投诉"}
    added = (await issues_api.post("/v1/reinspections", json=body)).json()
    assert {"issue_id": issue["issue_id"], "source": "manual"}.items() <= added["issues"][
        -1
    ].items()
    future = await issues_api.get("/v1/reinspections", params={"date": "2999-01-01"})
    assert future.status_code == 422
