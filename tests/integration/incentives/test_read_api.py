"""The read API on real servers: who may read the fund, and the finance office's exports
(CSV and XLSX with Chinese headers, yuan to 2 places, totals equal to the ledger to the fen)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from tests.conftest import Servers

from .editions import board, edition
from .support import Incentives, publish, replica, settled

pytestmark = pytest.mark.integration
HEADERS = ["年度", "期数", "修订", "截止日期", "单位编号", "单位", "类别", "类型", "金额(元)"]
NAMES = {"dept-a": "市城市管理局", "dept-b": "市交通运输局", "dist-c": "蓬江区"}


@pytest.mark.parametrize(
    ("token", "status"),
    [("", 401), ("not-a-token", 401), ("dev-inspector", 403), ("dev-unit-dist-c", 403)],
)
async def test_reading_the_fund_needs_an_office_viewer_or_ops_token(
    server_env: Servers, token: str, status: int
) -> None:
    async with replica(token) as svc:
        for path in ("/v1/funds/2043", "/v1/ledger?year=2043", "/v1/ledger.csv?year=2043"):
            assert (await svc.http.get(path)).status_code == status


@pytest.mark.parametrize("token", ["dev-office", "dev-viewer", "dev-ops"])
async def test_the_office_viewers_and_ops_may_read_the_fund(
    server_env: Servers, token: str
) -> None:
    async with replica(token) as svc:
        assert (await svc.http.get("/v1/funds/2043")).status_code == 200


async def ledger_with_an_adjustment(incentives: Incentives, js: Any, year: int) -> int:
    """Edition 1 of ``year`` paid, then revised; returns the ledger's net in fen."""
    scores = {"dept-a": "9031/100", "dept-b": "701/8"}
    await publish(
        js,
        edition(
            year,
            1,
            department=board(scores, red=("dept-a", "dept-b"), names=NAMES),
            district=board({"dist-c": "88"}, red=("dist-c",), names=NAMES),
        ),
    )
    await settled(incentives, year, 1)
    revised = edition(
        year,
        1,
        revision=2,
        department=board(scores, red=("dept-a",), names=NAMES),
        district=board({"dist-c": "88"}, red=("dist-c",), names=NAMES),
    )
    await publish(js, revised)
    await settled(incentives, year, 1, revisions=2)
    ledger = (await incentives.http.get("/v1/ledger", params={"year": year})).json()
    assert {e["kind"] for e in ledger} == {"allocation", "adjustment"}
    fund = (await incentives.http.get(f"/v1/funds/{year}")).json()
    assert sum(e["fen"] for e in ledger) == fund["allocated_fen"]
    return int(fund["allocated_fen"])


async def test_the_csv_export_matches_the_ledger_to_the_fen(
    incentives: Incentives, js: Any
) -> None:
    year = 2043
    net = await ledger_with_an_adjustment(incentives, js, year)
    response = await incentives.http.get("/v1/ledger.csv", params={"year": year})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"incentives-ledger-{year}.csv" in response.headers["content-disposition"]
    header, *rows, total = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[: len(HEADERS)] == HEADERS
    assert {(r[5], r[6]) for r in rows} == {
        ("市城市管理局", "市直部门"),
        ("市交通运输局", "市直部门"),
        ("蓬江区", "区/县级市"),
    }
    assert {r[7] for r in rows} == {"分配", "调整"}
    yuan = [Decimal(r[8]) for r in rows]
    assert all(re.fullmatch(r"-?\d+\.\d{2}", r[8]) for r in rows)
    assert total[0] == "合计"
    assert Decimal(total[8]) * 100 == sum(yuan) * 100 == net
    assert int(total[9]) == net


async def test_the_xlsx_export_matches_the_ledger_to_the_fen(
    incentives: Incentives, js: Any
) -> None:
    year = 2044
    net = await ledger_with_an_adjustment(incentives, js, year)
    response = await incentives.http.get("/v1/ledger.xlsx", params={"year": year})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet is not None
    header, *rows, total = list(sheet.iter_rows(values_only=True))
    assert list(header[: len(HEADERS)]) == HEADERS
    assert {r[5] for r in rows} == set(NAMES.values())
    fen = [int(r[9]) for r in rows]
    assert [round(Decimal(str(r[8])) * 100) for r in rows] == fen
    assert (total[0], total[9]) == ("合计", net)
    assert round(Decimal(str(total[8])) * 100) == sum(fen) == net
    assert sheet.cell(row=2, column=9).number_format == "0.00"
