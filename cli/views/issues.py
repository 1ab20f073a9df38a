"""Issues (督查问题): a list, one issue with its history, and import reports."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .text import STATES, local_time

HISTORY_KINDS = {
    "reported": "上报",
    "rectified": "整改",
    "inspection_pass": "复查通过",
    "inspection_fail": "复查未通过",
    "overdue": "超期",
    "voided": "作废",
    "transferred": "转办",
    "extension_requested": "申请延期",
    "extension_approved": "批准延期",
    "extension_refused": "驳回延期",
}


def state_text(state: str) -> str:
    return f"{STATES.get(state, state)}"


def issues_table(items: list[dict[str, Any]]) -> Table:
    table = Table(title="督查问题", header_style="bold")
    for column in ("编号", "单位", "问题类别", "状态", "上报时间", "整改期限", "返工", "ID"):
        table.add_column(column, no_wrap=column in ("编号", "ID"))
    for item in items:
        table.add_row(
            item.get("number", ""),
            item.get("unit_id", ""),
            item.get("category", ""),
            state_text(item.get("state", "")),
            local_time(item.get("reported_at")),
            local_time(item.get("deadline")),
            str(item.get("rework_count", 0)),
            item.get("issue_id", ""),
        )
    return table


def issue_detail(issue: dict[str, Any], history: list[dict[str, Any]]) -> RenderableType:
    """The issue's fields, then its append-only history (who, when, why)."""
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="bold")
    fields.add_column()
    location = issue.get("address") or ""
    if issue.get("lat") is not None and issue.get("lon") is not None:
        location += f"（{issue['lat']}, {issue['lon']}）"
    rows = [
        ("编号", issue.get("number", "")),
        ("ID", issue.get("issue_id", "")),
        ("责任单位", issue.get("unit_id", "")),
        ("问题类别", issue.get("category", "")),
        ("点位类型", issue.get("point_type", "")),
        ("问题描述", issue.get("description", "")),
        ("地点", location),
        ("状态", state_text(issue.get("state", ""))),
        ("发现时间", local_time(issue.get("found_at"))),
        ("上报时间", local_time(issue.get("reported_at"))),
        ("整改期限", local_time(issue.get("deadline"))),
        ("首次整改", local_time(issue.get("first_rectified_at"))),
        ("返工次数", str(issue.get("rework_count", 0))),
        ("督查员/组", f"{issue.get('inspector', '')} / {issue.get('team', '')}"),
        ("历史导入", "是" if issue.get("imported") else "否"),
    ]
    for photo in issue.get("photos") or []:
        rows.append(("照片", photo))
    for name, value in rows:
        fields.add_row(name, str(value))
    table = Table(title="处理记录", header_style="bold")
    for column in ("版本", "时间", "事项", "操作方", "说明"):
        table.add_column(column)
    for entry in history:
        data = entry.get("data") or {}
        note = "; ".join(
            f"{k}={v}"
            for k, v in data.items()
            if k not in ("by", "imported") and v not in ("", None)
        )
        by = data.get("by") or entry.get("actor", "")
        table.add_row(
            str(entry.get("version", "")),
            local_time(entry.get("at"), seconds=True),
            HISTORY_KINDS.get(entry.get("kind", ""), entry.get("kind", "")),
            str(by),
            note,
        )
    return Group(Text(f"问题 {issue.get('number', '')}", style="bold"), fields, table)


def rejected_rows_table(rejected: list[dict[str, Any]]) -> Table:
    """An all-or-nothing import's refusal: every bad row with its field and reason."""
    table = Table(title="被拒绝的行（未导入任何数据）", header_style="bold red")
    for column in ("行", "单位", "字段", "原因"):
        table.add_column(column)
    for row in rejected:
        errors = row.get("errors") or [{"path": "", "message": row.get("message", "")}]
        for error in errors:
            table.add_row(
                str(row.get("row", "")),
                str(row.get("unit_id") or ""),
                str(error.get("path", "")),
                str(error.get("message", "")),
            )
    return table
