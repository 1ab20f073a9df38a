"""Reading a CSV or XLSX file of assessment scores (实地考评, R4.2) for the office's import.

The first row names the columns: ``unit_id``, ``month``, ``score`` (required), ``source`` and
``recorded_at`` (optional; an office backfill gives each historical score its original recorded
time, R4.2 "occurred_at"). Every row is checked; the import is all or nothing, so the result is
either every row valid or a report of every bad row with the field and the reason.

Spreadsheets carry no time zone: a ``recorded_at`` without an offset is read in the campaign's
zone (Asia/Shanghai), in CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from services.runtime.service import ServiceRuntime

from .assessments import ImportRejected, ScoreIn, record_scores

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
REQUIRED = ("unit_id", "month", "score")
OPTIONAL = ("source", "recorded_at")


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (format, size, header)."""


@dataclass(frozen=True)
class RowResult:
    """One data row (``row`` counts like a spreadsheet: the header is row 1)."""

    row: int
    score: ScoreIn | None
    errors: tuple[tuple[str, str], ...] = ()

    def report(self) -> dict[str, Any]:
        if self.score is None:
            return {
                "row": self.row,
                "ok": False,
                "errors": [{"field": f, "message": m} for f, m in self.errors],
            }
        return {"row": self.row, "ok": True, **self.score.model_dump(mode="json")}


def read_rows(filename: str, data: bytes) -> list[dict[str, Any]]:
    """The data rows as column -> cell value, header names lower-cased and trimmed."""
    if len(data) > MAX_BYTES:
        raise UnreadableFile(f"the file is larger than {MAX_BYTES} bytes")
    suffix = filename.lower().rsplit(".", 1)[-1]
    if suffix == "csv":
        table = _csv(data)
    elif suffix == "xlsx":
        table = _xlsx(data)
    else:
        raise UnreadableFile("the file must be .csv or .xlsx")
    if not table:
        raise UnreadableFile("the file is empty: the first row names the columns")
    header = [str(cell or "").strip().lower() for cell in table[0]]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name and name not in REQUIRED + OPTIONAL]
    if missing or unknown:
        raise UnreadableFile(f"columns: missing {missing}, unknown {unknown}")
    if len(table) - 1 > MAX_ROWS:
        raise UnreadableFile(f"at most {MAX_ROWS} rows per file")
    return [
        {name: value for name, value in zip(header, row, strict=False) if name} for row in table[1:]
    ]


def _csv(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"a CSV file must be UTF-8: {exc}") from None
    rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    return [list(row) for row in rows]


def _xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(f"not a readable XLSX file: {exc}") from None
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True) if any(c is not None for c in r)]
    book.close()
    return rows


def check_rows(rows: list[dict[str, Any]], tz: ZoneInfo) -> list[RowResult]:
    """Validate every row; a unit and month twice in one file is an error on the later row
    (which of the two would win would depend on their recorded times, R4.2)."""
    results: list[RowResult] = []
    first_seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(rows, start=2):
        try:
            score = ScoreIn.model_validate(_cells(raw, tz))
        except ValidationError as exc:
            errors = tuple(
                (".".join(str(p) for p in e["loc"]) or "<row>", e["msg"]) for e in exc.errors()
            )
            results.append(RowResult(index, None, errors))
            continue
        key = (score.unit_id, score.month)
        if key in first_seen:
            message = f"{score.unit_id} {score.month} is already in row {first_seen[key]}"
            results.append(RowResult(index, None, (("month", message),)))
            continue
        first_seen[key] = index
        results.append(RowResult(index, score))
    return results


def _cells(raw: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """Spreadsheet cells as the API's JSON would carry them."""
    cells: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # an empty optional cell takes the default
        if isinstance(value, str):
            value = value.strip()
        if name == "month" and isinstance(value, datetime | date):
            value = f"{value.year:04d}-{value.month:02d}"
        elif name == "score" and isinstance(value, int | float) and not isinstance(value, bool):
            value = repr(value)  # an XLSX number: its shortest exact spelling ("87.5")
        elif name == "recorded_at":
            value = _instant(value, tz)
        cells[name] = value
    return cells


def _instant(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # the model reports it
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


async def import_scores(
    runtime: ServiceRuntime, filename: str, data: bytes, tz: ZoneInfo
) -> dict[str, Any]:
    """R4.2: publish every row of the file, or none with a report of every bad row."""
    try:
        results = check_rows(read_rows(filename, data), tz)
    except UnreadableFile as exc:
        raise ImportRejected({"detail": f"nothing was recorded: {exc}", "rows": []}) from None
    bad = [r for r in results if r.score is None]
    if bad or not results:
        detail = f"nothing was recorded: {len(bad)} of {len(results)} rows are invalid"
        raise ImportRejected({"detail": detail, "rows": [r.report() for r in results]})
    events = await record_scores(runtime, [r.score for r in results if r.score is not None])
    rows = [
        {**r.report(), "event_id": str(e.event_id), "recorded_at": e.occurred_at.isoformat()}
        for r, e in zip(results, events, strict=True)
    ]
    return {"recorded": len(rows), "rows": rows}
