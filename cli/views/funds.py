"""The incentive fund (创文绩效激励资金, R6): money is integer fen, shown in yuan."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table


def yuan(fen: int) -> str:
    """Integer fen → ``1,234,567.89`` yuan (exact, no floating point)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def fund_table(fund: dict[str, Any]) -> Table:
    table = Table(title=f"{fund['year']} 年创文绩效激励资金", header_style="bold")
    for column in ("年度资金（元）", "已分配（元）", "剩余（元）", "已结算期数", "计划期数"):
        table.add_column(column, justify="right")
    table.add_row(
        yuan(int(fund["fund_fen"])),
        yuan(int(fund["allocated_fen"])),
        yuan(int(fund["remaining_fen"])),
        str(fund.get("editions_settled", 0)),
        str(fund.get("planned_editions", "")),
    )
    return table


def totals_by_unit(entries: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """(unit_id, net fen, editions paid) per unit, largest first."""
    fen: dict[str, int] = defaultdict(int)
    editions: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        fen[entry["unit_id"]] += int(entry["fen"])
        if int(entry["fen"]) > 0:
            editions[entry["unit_id"]].add(int(entry["edition"]))
    return sorted(((u, f, len(editions[u])) for u, f in fen.items()), key=lambda t: (-t[1], t[0]))


def awards_table(entries: list[dict[str, Any]], names: dict[str, str]) -> Table:
    table = Table(title="各单位获得的激励资金", header_style="bold")
    table.add_column("单位")
    table.add_column("金额（元）", justify="right")
    table.add_column("获奖期数", justify="right")
    rows = totals_by_unit(entries)
    for unit_id, fen, count in rows:
        table.add_row(names.get(unit_id, unit_id), yuan(fen), str(count))
    if not rows:
        table.add_row("（尚无分配）", "", "")
    return table


def fund_view(
    fund: dict[str, Any], entries: list[dict[str, Any]], names: dict[str, str]
) -> RenderableType:
    return Group(fund_table(fund), awards_table(entries, names))
