"""Reading a spreadsheet to upload: CSV or XLSX only, checked before anything is sent."""

from __future__ import annotations

from pathlib import Path

from cli.errors import CliError

MEDIA_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def spreadsheet(path: Path) -> tuple[str, bytes, str]:
    """(file name, content, media type) for a multipart ``file`` field."""
    media = MEDIA_TYPES.get(path.suffix.lower())
    if media is None:
        raise CliError(f"{path}: not a .csv or .xlsx file")
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CliError(f"{path}: cannot read it ({exc.strerror})") from None
    if not content:
        raise CliError(f"{path}: the file is empty")
    return path.name, content, media
