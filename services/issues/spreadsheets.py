"""Rows of the office's spreadsheets (CSV or XLSX) as dicts keyed by the header row.

Every cell comes back as text (XLSX dates as ISO 8601); the use case validates the values.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

MAX_ROWS = 20_000


class UnreadableFile(ValueError):
    """The upload is not a CSV or XLSX file we can read (HTTP 422)."""


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """The data rows of ``content``, chosen by the file name's extension."""
    name = filename.lower()
    if name.endswith(".csv"):
        rows = _csv(content)
    elif name.endswith(".xlsx"):
        rows = _xlsx(content)
    else:
        raise UnreadableFile(f"{filename!r}: upload a .csv or .xlsx file")
    if not rows:
        raise UnreadableFile(f"{filename!r} has no header row")
    header = [h.strip().lower() for h in rows[0]]
    if len(rows) - 1 > MAX_ROWS:
        raise UnreadableFile(f"{filename!r} has more than {MAX_ROWS} rows")
    return [
        {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header) if h}
        for cells in rows[1:]
        if any(c.strip() for c in cells)
    ]


def _csv(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"the CSV file is not UTF-8: {exc}") from None
    return list(csv.reader(io.StringIO(text)))


def _xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise UnreadableFile(f"the XLSX file cannot be read: {exc}") from None
    sheet = book.worksheets[0]
    rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


async def read_upload(file: Any, max_bytes: int) -> list[dict[str, str]]:
    """The rows of an uploaded spreadsheet (a FastAPI ``UploadFile``), at most ``max_bytes``."""
    content = await file.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise UnreadableFile(f"the file is larger than {max_bytes} bytes")
    return read_rows(file.filename or "", content)
