"""The ledger for the finance office (财务科): CSV and XLSX with Chinese headers.

Amounts are shown in yuan with exactly two decimals beside the integer fen they come from
(R6.1), and the last row is the total (合计), computed from the same fen, so that the file
matches the ledger to the fen. Text that a spreadsheet would take for a formula stays text: in
CSV it gets a leading ``'`` (the only way CSV has); in XLSX it is a string cell with the
quote-prefix style, so the cell shows the text exactly, without a visible ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font

from .domain.money import fen_to_yuan

HEADERS = (
    "年度",
    "期数",
    "修订",
    "截止日期",
    "单位编号",
    "单位",
    "类别",
    "类型",
    "金额(元)",
    "金额(分)",
    "规则版本",
    "记账时间",
    "来源事件",
)
YUAN_COLUMN = HEADERS.index("金额(元)")
FEN_COLUMN = HEADERS.index("金额(分)")
# Text from elsewhere (a unit's name, the rule version): quoted in CSV when formula-like.
TEXT_COLUMNS = (HEADERS.index("单位"), HEADERS.index("规则版本"))
CATEGORY_NAMES = {"department": "市直部门", "district": "区/县级市", "town": "镇/街"}  # R1.1
KIND_NAMES = {"allocation": "分配", "adjustment": "调整"}  # R6.3, R6.4
TOTAL = "合计"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class LedgerExport:
    """The rows of one year's ledger as the finance office reads them, and their total."""

    year: int
    rows: tuple[tuple[Any, ...], ...]
    total_fen: int

    @property
    def basename(self) -> str:
        return f"incentives-ledger-{self.year}"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    media_type: str
    content: bytes


def ledger_export(year: int, entries: Iterable[Mapping[str, Any]], tz: ZoneInfo) -> LedgerExport:
    """One row per ledger entry in booking order; names and categories as the editions gave
    them (the unit id where none was recorded)."""
    rows = []
    total = 0
    for e in entries:
        total += e["fen"]
        rows.append(
            (
                e["year"],
                e["edition"],
                e["revision"],
                _local(e["cutoff"], tz).date().isoformat(),
                e["unit_id"],
                e["name"] or e["unit_id"],
                CATEGORY_NAMES.get(e["category"] or "", ""),
                KIND_NAMES[e["kind"]],
                fen_to_yuan(e["fen"]),
                e["fen"],
                e["rule_version"],
                _local(e["booked_at"], tz).isoformat(timespec="seconds"),
                str(e["source_event_id"]),
            )
        )
    return LedgerExport(year, tuple(rows), total)


def to_csv(export: LedgerExport) -> ExportFile:
    """UTF-8 with a byte-order mark, so that Excel shows the Chinese headers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(_csv_text(row) for row in export.rows)
    writer.writerow(_total_row(export, fen_to_yuan(export.total_fen)))
    return ExportFile(
        f"{export.basename}.csv", "text/csv; charset=utf-8", out.getvalue().encode("utf-8-sig")
    )


def to_xlsx(export: LedgerExport) -> ExportFile:
    """One sheet; yuan cells are exact decimals formatted ``0.00``, fen cells integers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{export.year}年激励资金台账"
    sheet.append(HEADERS)
    for row in export.rows:
        sheet.append(_yuan_as_number(row))
        for cell in sheet[sheet.max_row]:
            if _formula_like(cell.value):
                cell.data_type = "s"  # openpyxl takes "=..." for a formula: text it is
                cell.quotePrefix = True
    sheet.append(_yuan_as_number(_total_row(export, fen_to_yuan(export.total_fen))))
    for cell in (*sheet[1], *sheet[sheet.max_row]):
        cell.font = Font(bold=True)
    for (cell,) in sheet.iter_rows(min_row=2, min_col=YUAN_COLUMN + 1, max_col=YUAN_COLUMN + 1):
        cell.number_format = "0.00"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return ExportFile(
        f"{export.basename}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        out.getvalue(),
    )


def _total_row(export: LedgerExport, yuan: str) -> tuple[Any, ...]:
    row: list[Any] = [""] * len(HEADERS)
    row[0], row[YUAN_COLUMN], row[FEN_COLUMN] = TOTAL, yuan, export.total_fen
    return tuple(row)


def _yuan_as_number(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # "1234.56" -> Decimal("1234.56"): exact, never a float computed from fen.
    return (*row[:YUAN_COLUMN], Decimal(row[YUAN_COLUMN]), *row[YUAN_COLUMN + 1 :])


def _formula_like(value: object) -> bool:
    return isinstance(value, str) and value.startswith(_FORMULA_STARTS)


def _csv_text(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Keep a spreadsheet opening the CSV from evaluating text (a unit name is input from
    elsewhere): a leading ``'``. Amounts are not text columns (``-0.07`` stays a number)."""
    return tuple(
        f"'{value}" if i in TEXT_COLUMNS and _formula_like(value) else value
        for i, value in enumerate(row)
    )


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)
