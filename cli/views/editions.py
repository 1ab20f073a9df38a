"""An edition of the red and black lists (红黑榜) as rich tables, in Chinese."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from .text import CATEGORIES, CATEGORY_ORDER, local_time, percent


def edition_title(edition: dict[str, Any]) -> str:
    """``2018 年第 17 期红黑榜（修订 1）``, with '预览' for a dry run."""
    if edition.get("preview"):
        return f"{edition.get('year', '')} 年红黑榜预览（未发布）"
    revision = edition.get("revision", 1)
    return f"{edition['year']} 年第 {edition['number']} 期红黑榜（修订 {revision}）"


def edition_summary(edition: dict[str, Any]) -> str:
    """The cutoff, the rule version and the campaign-wide rate (R3.4) on one line."""
    campaign = edition.get("campaign") or {}
    rate = percent(campaign.get("rate"))
    counts = f"{campaign.get('rectified', 0)}/{campaign.get('reported', 0)}"
    return (
        f"截止 {local_time(edition.get('cutoff'))}（北京时间） · 规则 {edition.get('rule_version')}"
        f" · 全市整改率 {rate}（{counts}） · 超期 {campaign.get('overdue', 0)}"
        f" · 返工 {campaign.get('rework', 0)}"
    )


def _rows_by_id(part: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["unit_id"]: row for row in part.get("rows", [])}


def list_table(title: str, rows: list[dict[str, Any]], style: str) -> Table:
    """One list of one category: 排名, 单位, 综合得分, 整改率, 考评得分, 问题, 超期, 返工."""
    table = Table(title=title, title_style=style, header_style=style, expand=False)
    table.add_column("排名", justify="right")
    table.add_column("单位")
    table.add_column("综合得分", justify="right")
    table.add_column("整改率", justify="right")
    table.add_column("考评得分", justify="right")
    table.add_column("已整改/问题", justify="right")
    table.add_column("超期", justify="right")
    table.add_column("返工", justify="right")
    for row in rows:
        score = row.get("score") or {}
        month = f"（{score['month']}）" if score.get("month") else ""
        table.add_row(
            str(row.get("rank", "—")),
            f"{row.get('name', row['unit_id'])}",
            (row.get("composite") or {}).get("display", "—"),
            percent(row.get("rate")),
            f"{score.get('display', '—')}{month}" if score else "—",
            f"{row.get('rectified', 0)}/{row.get('reported', 0)}",
            str(row.get("overdue", 0)),
            str(row.get("rework", 0)),
        )
    if not rows:
        table.add_row("—", "（无）", "", "", "", "", "", "")
    return table


def board(edition: dict[str, Any], full: bool = False) -> RenderableType:
    """红榜 then 黑榜 of each category; with ``full`` also every ranked unit."""
    parts: list[RenderableType] = [
        Text(edition_title(edition), style="bold"),
        Text(edition_summary(edition)),
    ]
    categories = edition.get("categories", {})
    for list_name, key, style in (("红榜", "red", "bold red"), ("黑榜", "black", "bold white")):
        for category in CATEGORY_ORDER:
            part = categories.get(category) or {}
            by_id = _rows_by_id(part)
            rows = [by_id[u] for u in part.get(key, []) if u in by_id]
            title = f"{list_name} · {CATEGORIES[category]}"
            if rows:
                parts.append(list_table(title, rows, style))
            else:
                parts.append(Text(f"{title}：（无）", style=style))
    if full:
        for category in CATEGORY_ORDER:
            part = categories.get(category) or {}
            rows = sorted(part.get("rows", []), key=lambda r: (r.get("rank", 0), r["unit_id"]))
            parts.append(list_table(f"全部排名 · {CATEGORIES[category]}", rows, "bold"))
    return Group(*parts)


def list_members(edition: dict[str, Any], which: str) -> dict[str, list[str]]:
    """Names on the red or black list per category (for short summaries)."""
    found: dict[str, list[str]] = {}
    for category in CATEGORY_ORDER:
        part = edition.get("categories", {}).get(category) or {}
        by_id = _rows_by_id(part)
        found[category] = [by_id.get(u, {}).get("name", u) for u in part.get(which, [])]
    return found


def published_line(edition: dict[str, Any]) -> str:
    """What ``editions publish`` did, on one line."""
    if edition.get("created"):
        return f"已发布 {edition_title(edition)}"
    return f"内容未变，沿用已发布的 {edition_title(edition)}"
