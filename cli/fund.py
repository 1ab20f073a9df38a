"""``chuangwen fund`` and ``chuangwen ledger``: the incentive fund and its ledger (R6)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli import console, context
from cli.client import Api
from cli.errors import CliError
from cli.instants import TZ
from cli.views.funds import fund_view

fund_app = typer.Typer(help="The incentive fund (激励资金).", no_args_is_help=True)
ledger_app = typer.Typer(help="The fund's append-only ledger.", no_args_is_help=True)


def this_year() -> int:
    return datetime.now(UTC).astimezone(TZ).year


def unit_names(api: Api) -> dict[str, str]:
    """Names from the unit directory; ids alone when the issues service cannot say."""
    try:
        return {u["unit_id"]: u["name"] for u in api.get("issues", "/v1/units")}
    except CliError:
        return {}


@fund_app.command("show")
def show(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Argument(help="campaign year (default: this year)")] = None,
) -> None:
    """The year's fund: allocated, remaining, editions settled, and what each unit got.

    Example: chuangwen fund show 2018
    """
    year = year or this_year()
    with context.api(ctx) as api:
        fund = api.get("incentives", f"/v1/funds/{year}")
        entries: list[dict[str, Any]] = api.get("incentives", "/v1/ledger", params={"year": year})
        names = unit_names(api) if entries else {}
    console.out().print(fund_view(fund, entries, names))


@ledger_app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="file to write")],
    year: Annotated[int | None, typer.Option(help="campaign year (default: this year)")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="one unit's entries")] = None,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="Excel (the default)")] = False,
    csv: Annotated[bool, typer.Option("--csv", help="CSV (UTF-8)")] = False,
) -> None:
    """Export the ledger for the finance office (Chinese headers, yuan and fen, a 合计 row).

    Example: chuangwen ledger export --year 2018 --xlsx -o ledger-2018.xlsx
    """
    if xlsx and csv:
        raise CliError("choose one of --xlsx and --csv")
    kind = "csv" if csv else "xlsx"
    params: dict[str, Any] = {"year": year or this_year()}
    if unit:
        params["unit_id"] = unit
    with context.api(ctx) as api:
        response = api.request("incentives", "GET", f"/v1/ledger.{kind}", params=params)
    try:
        output.write_bytes(response.content)
    except OSError as exc:
        raise CliError(f"{output}: cannot write it ({exc.strerror})") from None
    console.out().print(f"wrote {output} ({len(response.content)} bytes, {kind})")
