"""``chuangwen issues``: report, list and show inspection issues (R2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import typer

from cli import console, context
from cli.errors import CliError
from cli.instants import parse_instant
from cli.views.issues import issue_detail, issues_table

app = typer.Typer(help="Inspection issues (督查问题): report, list, show.", no_args_is_help=True)
STATES = ("open", "rectified", "verified", "reopened", "void")


@app.command("report")
def report(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option("--unit", help="unit_id of the responsible unit")],
    category: Annotated[str, typer.Option(help="problem type, e.g. 暴露垃圾")],
    description: Annotated[str, typer.Option(help="what was found")],
    address: Annotated[str, typer.Option(help="where")],
    inspector: Annotated[str, typer.Option(help="who found it")],
    team: Annotated[str, typer.Option(help="the inspection team")],
    point_type: Annotated[str, typer.Option(help="school, community, road, ...")] = "community",
    found_at: Annotated[str | None, typer.Option(help="when (default: now)")] = None,
    deadline: Annotated[str | None, typer.Option(help="explicit deadline")] = None,
    photo: Annotated[list[str] | None, typer.Option(help="photo URL (repeatable)")] = None,
    lat: Annotated[float | None, typer.Option()] = None,
    lon: Annotated[float | None, typer.Option()] = None,
) -> None:
    """Report an issue (R2.1-R2.2): the unit gets its supervision notice (督办通知书).

    Example: chuangwen issues report --unit dist-pengjiang --category 暴露垃圾
    --description 小区门口垃圾未清理 --address 江门市蓬江区 --inspector 张三 --team 第一督查组
    """
    found = parse_instant(found_at, "--found-at") if found_at else datetime.now(UTC)
    location: dict[str, Any] = {"address": address}
    if lat is not None and lon is not None:
        location |= {"lat": lat, "lon": lon}
    body: dict[str, Any] = {
        "unit_id": unit,
        "category": category,
        "point_type": point_type,
        "description": description,
        "location": location,
        "photos": photo or [],
        "found_at": found.isoformat(),
        "inspector": inspector,
        "team": team,
    }
    if deadline:
        body["deadline"] = parse_instant(deadline, "--deadline").isoformat()
    with context.api(ctx) as api:
        issue = api.post("issues", "/v1/issues", body)
    console.out().print(issues_table([issue]))
    console.out().print(f"reported {issue['number']} ({issue['issue_id']})")


@app.command("list")
def list_issues(
    ctx: typer.Context,
    unit: Annotated[str | None, typer.Option("--unit", help="one unit's issues")] = None,
    status: Annotated[str | None, typer.Option(help="|".join(STATES))] = None,
    overdue: Annotated[bool | None, typer.Option("--overdue/--not-overdue")] = None,
    category: Annotated[str | None, typer.Option(help="problem type")] = None,
    reported_from: Annotated[
        str | None, typer.Option("--from", help="reported at or after")
    ] = None,
    reported_to: Annotated[str | None, typer.Option("--to", help="reported at or before")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="per page")] = 50,
    after: Annotated[str | None, typer.Option(help="cursor from a previous page")] = None,
    all_pages: Annotated[bool, typer.Option("--all", help="follow every page")] = False,
) -> None:
    """Issues, newest report first (a unit token sees only its own).

    Example: chuangwen issues list --unit dist-pengjiang --status open --overdue
    """
    if status is not None and status not in STATES:
        raise CliError(f"--status must be one of {', '.join(STATES)}, not {status!r}")
    params: dict[str, Any] = {"limit": limit}
    for key, value in (("unit_id", unit), ("status", status), ("category", category)):
        if value is not None:
            params[key] = value
    if overdue is not None:
        params["overdue"] = str(overdue).lower()
    if reported_from:
        params["reported_from"] = parse_instant(reported_from, "--from").isoformat()
    if reported_to:
        params["reported_to"] = parse_instant(reported_to, "--to").isoformat()
    items: list[dict[str, Any]] = []
    cursor = after
    with context.api(ctx) as api:
        while True:
            page = api.get(
                "issues", "/v1/issues", params={**params, "after": cursor} if cursor else params
            )
            items.extend(page["items"])
            cursor = page.get("next")
            if not all_pages or not cursor:
                break
    console.out().print(issues_table(items))
    if cursor:
        console.out().print(f"more: --after {cursor}")


@app.command("show")
def show(
    ctx: typer.Context,
    issue_id: Annotated[str, typer.Argument(help="the issue's ID (UUID)")],
) -> None:
    """One issue and its history (who did what, when, why).

    Example: chuangwen issues show 0b5c1d2e-0000-4000-8000-000000000001
    """
    try:
        UUID(issue_id)
    except ValueError:
        raise CliError(f"{issue_id!r} is not an issue ID (a UUID, see `issues list`)") from None
    with context.api(ctx) as api:
        issue = api.get("issues", f"/v1/issues/{issue_id}")
        history = api.get("issues", f"/v1/issues/{issue_id}/history")
    console.out().print(issue_detail(issue, history))
