"""``chuangwen editions``: publish and show the red and black lists (红黑榜, R4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from cli import console, context
from cli.instants import latest_monday, parse_instant
from cli.views.editions import board, published_line

app = typer.Typer(help="Editions of the red and black lists: publish, show.", no_args_is_help=True)


@app.command("publish")
def publish(
    ctx: typer.Context,
    cutoff: Annotated[
        str | None,
        typer.Option(help="cutoff instant (default: the latest Monday 00:00 Asia/Shanghai)"),
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="compute only, publish nothing")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="also every ranked unit")] = False,
) -> None:
    """Publish the edition for a cutoff (on demand); the same content twice is the same edition.

    Example: chuangwen editions publish --cutoff 2018-05-07
    """
    at = parse_instant(cutoff, "--cutoff") if cutoff else latest_monday(datetime.now(UTC))
    path = "/v1/editions/preview" if preview else "/v1/editions"
    with context.api(ctx) as api:
        edition = api.post("ranking", path, {"cutoff": at.isoformat()})
    console.out().print(board(edition, full))
    if not preview:
        console.out().print(published_line(edition))


@app.command("show")
def show(
    ctx: typer.Context,
    year: Annotated[int | None, typer.Argument(help="campaign year (default: the latest)")] = None,
    number: Annotated[int | None, typer.Argument(help="edition number in the year")] = None,
    revision: Annotated[int | None, typer.Option(min=1, help="an earlier revision")] = None,
    full: Annotated[bool, typer.Option("--full", help="also every ranked unit")] = False,
) -> None:
    """Show a published edition exactly as published (default: the latest).

    Example: chuangwen editions show 2018 17 --full
    """
    with context.api(ctx) as api:
        edition = _fetch(api, year, number, revision)
    console.out().print(board(edition, full))


def _fetch(api: Any, year: int | None, number: int | None, revision: int | None) -> Any:
    if year is None:
        return api.get("ranking", "/v1/editions/latest")
    if number is None:
        raise typer.BadParameter("give the edition NUMBER after the YEAR", param_hint="NUMBER")
    params = {"revision": revision} if revision else None
    return api.get("ranking", f"/v1/editions/{year}/{number}", params=params)
