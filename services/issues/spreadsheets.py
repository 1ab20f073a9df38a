"""Rows of the office's spreadsheets (CSV or XLSX) as dicts keyed by the header row.

Every cell comes back as text (XLSX dates as ISO 8601); the use case validates the values. Each
row keeps its line in the file (the header is line 1), so that a rejection names the line the
office sees even when blank rows were left out.

An upload is bounded before and while it is read: at most ``MAX_ROWS`` rows under the header
(reading stops at the first row too many), at most ``MAX_COLUMNS`` columns, and an XLSX file
whose declared sheet size or unpacked size is absurd is refused before it is parsed. Parsing
runs in a worker thread (``read_upload``), never on the event loop.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_ROWS = 20_000
MAX_COLUMNS = 200
# The unpacked size of an XLSX archive (XML is verbose, but not 25x a 5 MiB upload).
MAX_UNPACKED_BYTES = 128 * 1024 * 1024


class UnreadableFile(ValueError):
    """The upload is not a CSV or XLSX file we can read (HTTP 422)."""


@dataclass(frozen=True)
class SheetRow:
    """One non-blank data row: its line in the file (header = 1) and its cells by header."""

    line: int
    values: dict[str, str]


def read_rows(filename: str, content: bytes) -> list[SheetRow]:
    """The non-blank data rows of ``content``, chosen by the file name's extension."""
    name = filename.lower()
    rows: Iterable[Sequence[str]]
    if name.endswith(".csv"):
        rows = _csv(content)
    elif name.endswith(".xlsx"):
        rows = _xlsx(content)
    else:
        raise UnreadableFile(f"{filename!r}: upload a .csv or .xlsx file")
    return _keyed(filename, rows)


def _keyed(filename: str, rows: Iterable[Sequence[str]]) -> list[SheetRow]:
    """Header + rows → keyed rows; stops reading at the first row past ``MAX_ROWS``."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        raise UnreadableFile(f"{filename!r} has no header row")
    header = [h.strip().lower() for h in first[:MAX_COLUMNS]]
    keyed: list[SheetRow] = []
    for line, cells in enumerate(it, start=2):
        if line - 1 > MAX_ROWS:
            raise UnreadableFile(f"{filename!r} has more than {MAX_ROWS} rows")
        if any(c.strip() for c in cells):
            values = {
                h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header) if h
            }
            keyed.append(SheetRow(line, values))
    return keyed


def _csv(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"the CSV file is not UTF-8: {exc}") from None
    try:
        # A generator: the caller stops reading at the first row past the limit.
        yield from csv.reader(io.StringIO(text))
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV file cannot be read: {exc}") from None


def _xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    _check_unpacked_size(content)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise UnreadableFile(f"the XLSX file cannot be read: {exc}") from None
    try:
        sheet = book.worksheets[0]
        _check_declared_size(sheet.max_row, sheet.max_column)
        # The header fixes the width: cells right of it are never materialised, and rows stop
        # at the first one past the limit (the row after it is only read to know it exists).
        head = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
        header = [_cell(v) for v in head]
        while header and not header[-1].strip():
            header.pop()
        if not header:
            return []
        rows: list[list[str]] = [header]
        for row in sheet.iter_rows(
            min_row=2, max_row=MAX_ROWS + 2, max_col=len(header), values_only=True
        ):
            rows.append([_cell(v) for v in row])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(f"the XLSX file cannot be read: {exc}") from None
    finally:
        book.close()


def _check_unpacked_size(content: bytes) -> None:
    """Refuse a zip bomb before openpyxl unpacks it (zipfile enforces the declared sizes)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UnreadableFile(f"the XLSX file cannot be read: {exc}") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise UnreadableFile(
            f"the XLSX file unpacks to {unpacked} bytes; at most {MAX_UNPACKED_BYTES} are read"
        )


def _check_declared_size(max_row: int | None, max_column: int | None) -> None:
    """The sheet's own ``<dimension>``: an absurd one is refused, not padded to."""
    if max_column is not None and max_column > MAX_COLUMNS:
        raise UnreadableFile(
            f"the sheet declares {max_column} columns; at most {MAX_COLUMNS} are read"
        )
    if max_row is not None and max_row - 1 > MAX_ROWS:
        raise UnreadableFile(
            f"the sheet declares {max_row - 1} rows under its header; at most {MAX_ROWS}"
        )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


async def read_upload(file: Any, max_bytes: int) -> list[SheetRow]:
    """The rows of an uploaded spreadsheet (a FastAPI ``UploadFile``), at most ``max_bytes``;
    parsed in a worker thread so that a large file never stalls the event loop."""
    content = await file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise UnreadableFile(f"the file is larger than {max_bytes} bytes")
    return await asyncio.to_thread(read_rows, file.filename or "", content)
