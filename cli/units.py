"""``chuangwen units``: the unit directory (R1)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli import console, context
from cli.errors import CliError, HttpError
from cli.files import spreadsheet
from cli.views.issues import rejected_rows_table
from cli.views.text import CATEGORIES

app = typer.Typer(help="The unit directory (责任单位): import and list.", no_args_is_help=True)


@app.command("import")
def import_units(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX: unit_id,name,category,parent_id")],
) -> None:
    """Register or update units from a spreadsheet, all rows or none.

    A refused file changes nothing; every bad row is shown with its field and reason.

    Example: chuangwen units import data/jiangmen-units.csv
    """
    upload = spreadsheet(file)
    with context.api(ctx) as api:
        try:
            result = api.post("issues", "/v1/units/import", files={"file": upload})
        except HttpError as exc:
            if isinstance(exc.body, dict) and exc.body.get("rejected"):
                console.out().print(rejected_rows_table(exc.body["rejected"]))
                raise CliError(f"{file}: {exc.body.get('detail')}") from None
            raise
    console.out().print(
        f"{file}: {result['imported']} rows — {result['registered']} registered,"
        f" {result['updated']} updated, {result['unchanged']} unchanged"
    )


@app.command("list")
def list_units(ctx: typer.Context) -> None:
    """The unit directory.

    Example: chuangwen units list
    """
    with context.api(ctx) as api:
        units = api.get("issues", "/v1/units")
    table = Table(title=f"责任单位（{len(units)}）", header_style="bold")
    for column in ("unit_id", "名称", "类别", "上级", "状态"):
        table.add_column(column)
    for unit in units:
        table.add_row(
            unit["unit_id"],
            unit["name"],
            CATEGORIES.get(unit["category"], unit["category"]),
            unit.get("parent_id") or "",
            "在册" if unit.get("active") else "已停用",
        )
    console.out().print(table)
