"""Spreadsheet uploads are bounded before and while they are read, off the event loop."""

from __future__ import annotations

import csv
import io
import re
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from services.issues import spreadsheets
from services.issues.spreadsheets import SheetRow, UnreadableFile, read_rows, read_upload

SHEET = "xl/worksheets/sheet1.xml"


def xlsx(rows: list[list[Any]], dimension: str | None = "keep") -> bytes:
    """An XLSX file of ``rows``; ``dimension`` replaces the sheet's declared size (None: the
    declaration is removed, as some writers leave it out)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if dimension == "keep":
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == SHEET:
                text = data.decode()
                new = "" if dimension is None else f'<dimension ref="{dimension}"/>'
                text = re.sub(r"<dimension [^>]*/>", new, text)
                data = text.encode()
            target.writestr(info.filename, data)
    return out.getvalue()


def test_an_xlsx_declaring_absurdly_many_columns_is_refused() -> None:
    content = xlsx([["unit_id", "name"], ["dept-a", "局"]], dimension="A1:XFD2")
    with pytest.raises(UnreadableFile, match="16384 columns"):
        read_rows("units.xlsx", content)


def test_an_xlsx_declaring_a_million_rows_is_refused() -> None:
    content = xlsx([["unit_id", "name"], ["dept-a", "局"]], dimension="A1:B1048576")
    with pytest.raises(UnreadableFile, match="rows"):
        read_rows("units.xlsx", content)


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(UnreadableFile, match="unpacks to"):
        read_rows("units.xlsx", xlsx([["unit_id"], ["x" * 5000]]))


def test_xlsx_rows_are_read_as_wide_as_the_header_and_stop_past_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 5)
    calls: list[dict[str, Any]] = []
    pulled = [0]
    original = ReadOnlyWorksheet.iter_rows

    def spy(self: ReadOnlyWorksheet, *args: Any, **kwargs: Any) -> Iterator[Any]:
        calls.append(kwargs)
        for row in original(self, *args, **kwargs):
            pulled[0] += 1
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "iter_rows", spy)
    rows = [["unit_id", "name"]] + [[f"dept-{i}", "局"] for i in range(200)]
    with pytest.raises(UnreadableFile, match="more than 5 rows"):
        read_rows("units.xlsx", xlsx(rows, dimension=None))
    assert all(c.get("max_col") is not None and c["max_col"] <= 200 for c in calls)
    assert calls[-1]["max_col"] == 2
    assert pulled[0] <= 1 + 5 + 2  # the header, the limit and the row that exceeds it


def test_csv_rows_stop_being_read_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "MAX_ROWS", 5)
    pulled = [0]
    original = csv.reader

    def spy(*args: Any, **kwargs: Any) -> Iterator[list[str]]:
        for row in original(*args, **kwargs):
            pulled[0] += 1
            yield row

    monkeypatch.setattr(csv, "reader", spy)
    text = "unit_id,name\n" + "".join(f"dept-{i},局\n" for i in range(1000))
    with pytest.raises(UnreadableFile, match="more than 5 rows"):
        read_rows("units.csv", text.encode())
    assert pulled[0] <= 1 + 5 + 1


def test_rows_keep_their_line_in_the_file_when_blank_rows_are_left_out() -> None:
    text = "unit_id,name\ndept-a,局\n,\n\ndept-b,委\n"
    assert read_rows("units.csv", text.encode()) == [
        SheetRow(2, {"unit_id": "dept-a", "name": "局"}),
        SheetRow(5, {"unit_id": "dept-b", "name": "委"}),
    ]
    content = xlsx([["unit_id", "name"], ["dept-a", "局"], [None, None], ["dept-b", "委"]])
    assert [r.line for r in read_rows("units.xlsx", content)] == [2, 4]


class _Upload:
    filename = "units.csv"

    async def read(self, size: int) -> bytes:
        return b"unit_id,name\ndept-a,x\n"[:size]


async def test_an_upload_is_parsed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[threading.Thread] = []
    original = spreadsheets.read_rows

    def spy(filename: str, content: bytes) -> list[SheetRow]:
        threads.append(threading.current_thread())
        return original(filename, content)

    monkeypatch.setattr(spreadsheets, "read_rows", spy)
    rows = await read_upload(_Upload(), 1024)
    assert rows == [SheetRow(2, {"unit_id": "dept-a", "name": "x"})]
    assert threads and threads[0] is not threading.main_thread()
