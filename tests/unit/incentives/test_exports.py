"""The finance office's exports: Chinese headers, yuan to 2 places, totals to the fen."""

import csv
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl

from services.incentives.exports import HEADERS, ledger_export, to_csv, to_xlsx

SHANGHAI = ZoneInfo("Asia/Shanghai")


def entry(unit_id: str, fen: int, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "year": 2018,
        "edition": 1,
        "revision": 1,
        "cutoff": datetime(2018, 1, 7, 16, tzinfo=UTC),  # Monday 8 January 00:00 in Shanghai
        "unit_id": unit_id,
        "name": "蓬江区",
        "category": "district",
        "kind": "allocation",
        "fen": fen,
        "rule_version": "2025.1",
        "source_event_id": uuid.UUID(int=1),
        "booked_at": datetime(2018, 1, 8, 2, tzinfo=UTC),
    }
    return {**row, **extra}


ROWS = [
    entry("dist-a", 15_094_339),
    entry("dept-b", 5, name=None, category=None),
    entry("dist-a", -7, revision=2, kind="adjustment"),
]


def test_csv_rows_show_yuan_with_two_decimals_and_a_total_to_the_fen() -> None:
    file = to_csv(ledger_export(2018, ROWS, SHANGHAI))
    assert file.filename == "incentives-ledger-2018.csv"
    assert file.content.startswith("\ufeff".encode())  # Excel reads UTF-8 with a BOM
    header, *rows, total = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert header == list(HEADERS)
    assert [(r[3], r[5], r[6], r[7], r[8]) for r in rows] == [
        ("2018-01-08", "蓬江区", "区/县级市", "分配", "150943.39"),
        ("2018-01-08", "dept-b", "", "分配", "0.05"),
        ("2018-01-08", "蓬江区", "区/县级市", "调整", "-0.07"),
    ]
    assert (total[0], total[8], total[9]) == ("合计", "150943.37", str(15_094_339 + 5 - 7))


def test_a_name_that_looks_like_a_formula_is_kept_as_text() -> None:
    file = to_csv(ledger_export(2018, [entry("dist-a", 1, name="=HYPERLINK(1)")], SHANGHAI))
    assert "'=HYPERLINK(1)" in file.content.decode("utf-8-sig")


def test_in_xlsx_a_formula_like_name_is_a_quote_prefixed_string_without_a_visible_quote() -> None:
    export = ledger_export(2018, [entry("dist-a", 1, name="=1+1", rule_version="-v2")], SHANGHAI)
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(export).content))
    sheet = book.active
    assert sheet is not None
    for column, text in ((6, "=1+1"), (11, "-v2")):
        cell = sheet.cell(row=2, column=column)
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", True)
    plain = sheet.cell(row=2, column=5)  # the unit id: an ordinary string cell
    assert (plain.value, plain.quotePrefix) == ("dist-a", False)
    assert sheet.cell(row=2, column=9).data_type == "n"  # amounts stay numbers


def test_xlsx_amounts_are_exact_numbers_that_total_to_the_fen() -> None:
    file = to_xlsx(ledger_export(2018, ROWS, SHANGHAI))
    sheet = openpyxl.load_workbook(io.BytesIO(file.content)).active
    assert sheet is not None
    header, *rows, total = list(sheet.iter_rows(values_only=True))
    assert list(header) == list(HEADERS)
    assert [Decimal(str(r[8])) for r in rows] == [
        Decimal("150943.39"),
        Decimal("0.05"),
        Decimal("-0.07"),
    ]
    assert [r[9] for r in rows] == [15_094_339, 5, -7]
    assert (total[0], Decimal(str(total[8])), total[9]) == (
        "合计",
        Decimal("150943.37"),
        15_094_337,
    )


def test_an_empty_ledger_exports_headers_and_a_zero_total() -> None:
    file = to_csv(ledger_export(2018, [], SHANGHAI))
    header, total = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert header == list(HEADERS)
    assert (total[0], total[8], total[9]) == ("合计", "0.00", "0")
