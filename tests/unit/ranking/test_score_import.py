import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

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
