import io
import re
import threading
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from services.ranking import score_import
from services.ranking.assessments import ImportRejected, KnownUnits
from services.ranking.score_import import UnreadableFile, check_rows, read_rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _csv(text: str) -> bytes:
    return ("\ufeff" + text).encode()


def test_csv_rows_become_scores_with_the_office_as_default_source() -> None:
    rows = read_rows("scores.csv", _csv("unit_id,month,score\ndist-a,2018-05,87.5\n"))
    (result,) = check_rows(rows, SHANGHAI)
    assert result.score is not None
    assert (result.score.unit_id, result.score.score, result.score.source) == (
        "dist-a",
        "87.5",
        "office",
    )


def test_every_bad_row_is_reported_with_its_field() -> None:
    text = (
        "unit_id,month,score,recorded_at\n"
        "dist-a,2018-05,87.5,\n"
        "dist-b,2018-13,80,\n"
        "dist-c,2018-05,101,\n"
        "dist-a,2018-05,90,\n"
    )
    results = check_rows(read_rows("s.csv", _csv(text)), SHANGHAI)
    report = {r.row: r.report() for r in results}
    assert report[2]["ok"] is True
    assert report[3]["errors"][0]["field"] == "month"
    assert "between 0 and 100" in report[4]["errors"][0]["message"]
    assert "already in row 2" in report[5]["errors"][0]["message"]


def test_a_backfill_keeps_its_recorded_time_read_in_the_campaign_zone() -> None:
    # R4.2: the office backfills historical scores with their original recorded time.
    text = "unit_id,month,score,recorded_at\ndist-a,2018-04,70,2018-05-03 10:00\n"
    (result,) = check_rows(read_rows("s.csv", _csv(text)), SHANGHAI)
    assert result.score is not None
    assert result.score.recorded_at == datetime(2018, 5, 3, 10, tzinfo=SHANGHAI)


def test_xlsx_numbers_and_dates_are_read_exactly() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["unit_id", "month", "score", "source", "recorded_at"])
    sheet.append(["dept-a", datetime(2018, 5, 1), 92.25, "考评系统", datetime(2018, 5, 31, 18)])
    buffer = io.BytesIO()
    book.save(buffer)
    (result,) = check_rows(read_rows("s.xlsx", buffer.getvalue()), SHANGHAI)
    assert result.score is not None
    assert (result.score.month, result.score.score) == ("2018-05", "92.25")
    assert result.score.recorded_at == datetime(2018, 5, 31, 18, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("s.txt", b"x", ".csv or .xlsx"),
        ("s.csv", b"unit_id,score\n", "missing ['month']"),
        ("s.csv", b"unit_id,month,score,colour\n", "unknown ['colour']"),
        ("s.xlsx", b"not a zip", "XLSX"),
        ("s.csv", b"", "empty"),
    ],
)
def test_an_unreadable_file_is_refused_as_a_whole(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason.replace("[", r"\[").replace(".", r"\.")):
        read_rows(name, data)


def _xlsx(rows: list[list[object]], edit: Callable[[str], str] = lambda xml: xml) -> bytes:
    """An XLSX file of ``rows``, its sheet XML passed through ``edit`` (to forge what openpyxl
    would never write)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    written = io.BytesIO()
    book.save(written)
    forged = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(written.getvalue())) as source,
        zipfile.ZipFile(forged, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            target.writestr(info, data)
    return forged.getvalue()


HEADER: list[object] = ["unit_id", "month", "score"]


@pytest.mark.parametrize("declared", ["A1:XFD3", "A1:C1048576"])
def test_an_xlsx_declaring_an_absurd_dimension_is_refused(declared: str) -> None:
    # openpyxl pads every row to the declared width and makes a row for every declared row
    # number: a few bytes could otherwise keep the service busy for minutes.
    data = _xlsx(
        [HEADER, ["dist-a", "2018-05", 80]],
        lambda xml: re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="{declared}"', xml),
    )
    with pytest.raises(UnreadableFile, match="declares"):
        read_rows("s.xlsx", data)


def test_xlsx_reading_stops_at_the_row_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The rows after the limit are never read: here the next one would not even parse.
    monkeypatch.setattr(score_import, "MAX_ROWS", 3)
    rows: list[list[object]] = [HEADER, *(["dist-a", f"2018-0{m}", 80] for m in range(1, 6))]
    data = _xlsx(
        rows, lambda xml: xml.replace('<c r="C6" t="n"><v>80</v>', '<c r="C6" t="n"><v>x</v>')
    )
    with pytest.raises(UnreadableFile, match="at most 3 rows"):
        read_rows("s.xlsx", data)


def test_an_xlsx_that_unpacks_to_too_much_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(score_import, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(UnreadableFile, match="unpacks to"):
        read_rows("s.xlsx", _xlsx([HEADER, ["dist-a", "2018-05", 80]]))


async def test_the_file_is_read_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    loop_thread = threading.get_ident()
    readers: list[int] = []

    def reading(filename: str, data: bytes) -> list[dict[str, Any]]:
        readers.append(threading.get_ident())
        raise UnreadableFile("stop here")

    monkeypatch.setattr(score_import, "read_rows", reading)
    with pytest.raises(ImportRejected):
        await score_import.import_scores(cast(Any, None), "s.xlsx", b"", SHANGHAI)
    assert readers and readers[0] != loop_thread


def test_a_future_recorded_time_and_an_unknown_unit_are_row_errors() -> None:
    now = datetime(2018, 6, 1, 12, tzinfo=SHANGHAI)
    text = (
        "unit_id,month,score,recorded_at\n"
        "dist-a,2018-05,80,2018-06-01T12:00:00+08:00\n"  # exactly now: fine
        "dist-a,2018-04,80,2018-06-01T12:00:01+08:00\n"
        "dist-zz,2018-05,80,\n"
    )
    rows = read_rows("s.csv", _csv(text))
    results = check_rows(rows, SHANGHAI, now, KnownUnits({"dist-a"}))
    report = {r.row: r.report() for r in results}
    assert report[2]["ok"] is True
    assert report[3]["errors"][0]["field"] == "recorded_at"
    assert "in the future" in report[3]["errors"][0]["message"]
    assert report[4]["errors"][0]["field"] == "unit_id"
    assert "unknown unit 'dist-zz'" in report[4]["errors"][0]["message"]
