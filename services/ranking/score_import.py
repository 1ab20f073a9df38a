"""Reading a CSV or XLSX file of assessment scores (实地考评, R4.2) for the office's import.

The first row names the columns: ``unit_id``, ``month``, ``score`` (required), ``source`` and
``recorded_at`` (optional; an office backfill gives each historical score its original recorded
time, R4.2 "occurred_at"). Every row is checked; the import is all or nothing, so the result is
either every row valid or a report of every bad row with the field and the reason.

Spreadsheets carry no time zone: a ``recorded_at`` without an offset is read in the campaign's
zone (Asia/Shanghai), in CSV and XLSX alike. A score ``recorded_at`` in the future, or for a unit
the directory does not know, is a bad row too (`assessments.score_problems`).

An XLSX file is a zip of XML that may declare any dimensions and inflate to far more than its
size, and openpyxl pads every row to the width it declares: the reader refuses an absurd
declared size or dimension, reads only the first ``MAX_COLUMNS`` columns, stops as soon as a
limit is passed, and runs off the event loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from services.runtime.service import ServiceRuntime

from .assessments import (
    ImportRejected,
    KnownUnits,
    ScoreIn,
    known_units,
    record_scores,
    score_problems,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# XLSX: at most this many columns are read (the file has 5 at most, with room for blanks) ...
MAX_COLUMNS = 32
# ... rows (blank ones included) may be declared or read ...
MAX_SHEET_ROWS = 5 * MAX_ROWS
# ... and bytes unpacked from the zip (a 5 MiB zip of repetitive XML can inflate to gigabytes).
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
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
    return [
        {name: value for name, value in zip(header, row, strict=False) if name} for row in table[1:]
    ]


def _limited(rows: Iterator[list[Any]]) -> list[list[Any]]:
    """The header and at most ``MAX_ROWS`` data rows; stops reading as soon as one more
    arrives."""
    table: list[list[Any]] = []
    for row in rows:
        if len(table) > MAX_ROWS:
            raise UnreadableFile(f"at most {MAX_ROWS} rows per file")
        table.append(row)
    return table


def _csv(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"a CSV file must be UTF-8: {exc}") from None
    return _limited(
        list(row) for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)
    )


def _xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    _check_unpacked_size(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(f"not a readable XLSX file: {exc}") from None
    try:
        sheet = book.worksheets[0]
        rows, columns = sheet.max_row, sheet.max_column  # as declared (<dimension>), or None
        if (rows or 0) > MAX_SHEET_ROWS or (columns or 0) > MAX_COLUMNS:
            raise UnreadableFile(
                f"the sheet declares {rows} rows and {columns} columns; a score file has at"
                f" most {MAX_ROWS} rows and {MAX_COLUMNS} columns"
            )
        return _limited(_xlsx_rows(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)))
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(f"not a readable XLSX file: {exc}") from None
    finally:
        book.close()


def _xlsx_rows(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[Any]]:
    """The non-blank rows; blank ones count towards ``MAX_SHEET_ROWS`` (openpyxl makes one for
    every row number the sheet skips)."""
    for read, row in enumerate(rows, start=1):
        if read > MAX_SHEET_ROWS:
            raise UnreadableFile(f"the sheet has more than {MAX_SHEET_ROWS} rows")
        if any(cell is not None for cell in row):
            yield list(row)


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a zip whose members declare more than ``MAX_UNPACKED_BYTES`` (reading a member
    never yields more than its declared size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(f"not a readable XLSX file: {exc}") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableFile(
            f"the XLSX file unpacks to {unpacked} bytes; at most {MAX_UNPACKED_BYTES}"
        )


def check_rows(
    rows: list[dict[str, Any]],
    tz: ZoneInfo,
    now: datetime | None = None,
    units: KnownUnits | None = None,
) -> list[RowResult]:
    """Validate every row; a unit and month twice in one file is an error on the later row
    (which of the two would win would depend on their recorded times, R4.2). With ``now`` and
    ``units``, a future ``recorded_at`` and an unknown unit are errors of their row too."""
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
        problems = score_problems(score, now, units) if now and units else ()
        if problems:
            results.append(RowResult(index, None, problems))
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
    runtime: ServiceRuntime,
    filename: str,
    data: bytes,
    tz: ZoneInfo,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """R4.2: publish every row of the file, or none with a report of every bad row.

    Reading and checking run in a worker thread: a large file must not stall the event loop."""
    try:
        table = await asyncio.to_thread(read_rows, filename, data)
    except UnreadableFile as exc:
        raise ImportRejected({"detail": f"nothing was recorded: {exc}", "rows": []}) from None
    units = await known_units(runtime)
    at = now()
    results = await asyncio.to_thread(check_rows, table, tz, at, units)
    bad = [r for r in results if r.score is None]
    if bad or not results:
        detail = f"nothing was recorded: {len(bad)} of {len(results)} rows are invalid"
        raise ImportRejected({"detail": detail, "rows": [r.report() for r in results]})
    scores = [r.score for r in results if r.score is not None]
    events = await record_scores(runtime, scores, lambda: at)
    rows = [
        {**r.report(), "event_id": str(e.event_id), "recorded_at": e.occurred_at.isoformat()}
        for r, e in zip(results, events, strict=True)
    ]
    return {"recorded": len(rows), "rows": rows}
