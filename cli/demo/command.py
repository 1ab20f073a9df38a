"""``chuangwen demo``: register Jiangmen's units as of the campaign's start, load the
four-month campaign of 2018 through the office's backfill, publish each weekly edition for
its real Monday cutoff in order, and show the board, the fund and the notices sent."""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli import bus, console, context
from cli.client import Api
from cli.config import DEFAULT_TOKEN, Config
from cli.demo.campaign import CAMPAIGN_START, Campaign, Clock, plan
from cli.demo.stack import ROOT, DemoStack, Receiver
from cli.errors import CliError
from cli.fund import unit_names
from cli.instants import TZ
from cli.views.editions import board
from cli.views.funds import fund_view
from cli.views.ops import total_lag

UNITS_FILE = ROOT / "data" / "jiangmen-units.csv"
BATCH = 250
# Each backfill request stays small (a progress bar that moves; well under the issues
# service's upload limit, ISSUES_MAX_UPLOAD_BYTES).
MAX_BODY = 60 * 1024
NOTICE_NAMES = {
    "supervision": "督办通知书",
    "reminder": "到期提醒",
    "overdue": "超期通报",
    "rate_report": "整改率周报",
    "commendation": "通报表扬",
    "criticism": "通报批评",
    "talk": "约谈/问责",
    "correction": "更正",
    "award": "奖励通知",
    "finance_summary": "财政汇总",
}


def demo(
    ctx: typer.Context,
    scale: Annotated[float, typer.Option(min=0.01, max=2.0, help="share of 3,440 issues")] = 1.0,
    weeks: Annotated[int, typer.Option(min=1, max=52, help="weekly editions")] = 17,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same campaign)")] = 2018,
    start: Annotated[
        str, typer.Option(help="the campaign's first Monday (its cutoffs are the next ones)")
    ] = CAMPAIGN_START.isoformat(),
    keep: Annotated[bool, typer.Option("--keep", help="leave the stack running")] = False,
    reuse: Annotated[
        bool, typer.Option("--reuse", help="use the running stack of the global options")
    ] = False,
    units_file: Annotated[Path, typer.Option(help="unit directory")] = UNITS_FILE,
) -> None:
    """Jiangmen's campaign end to end: units, ~3,440 issues, scores, weekly editions, money.

    Starts `make run` on free ports with a data folder of its own (unless --reuse), and stops
    it at the end (unless --keep). The campaign runs on the report's calendar: from Monday
    1 January 2018 (--start), units registered as of that day (R1.3), issues and scores with
    their historical times, and an edition for each Monday 00:00 cutoff, in order.

    Example: chuangwen demo --scale 0.1 --weeks 4
    """
    started = time.monotonic()
    clock = campaign_clock(start, weeks, datetime.now(UTC))
    receiver: Receiver | None = None
    stack: DemoStack | None = None
    config = context.config(ctx)
    out = console.out()
    try:
        if not reuse:
            receiver = Receiver()
            receiver.start()
            data = Path(tempfile.mkdtemp(prefix="chuangwen-demo-"))
            stack = DemoStack(data, receiver.url)
            config = Config(urls=stack.urls, token=DEFAULT_TOKEN, nats_url=stack.nats_url)
            _start(stack)
        with Api(config) as api:
            counts = _run(api, config, units_file, clock, scale, weeks, seed)
            _final(api, counts, receiver)
        out.print(f"demo done in {time.monotonic() - started:.0f} s")
        if stack is not None and keep:
            _print_kept(stack)
    finally:
        if stack is not None and not keep:
            console.err().print("stopping the demo stack …")
            stack.stop()
            shutil.rmtree(stack.data_dir, ignore_errors=True)
        if receiver is not None and not keep:
            receiver.stop()


def campaign_clock(start: str, weeks: int, now: datetime) -> Clock:
    """The campaign from Monday ``start``; its last cutoff must have passed (R4.1 publishes
    only past cutoffs, and backfilled times must not be in the future)."""
    try:
        clock = Clock.monday(date.fromisoformat(start))
    except ValueError as exc:
        detail = str(exc) if "Monday" in str(exc) else f"{start!r} is not a date (YYYY-MM-DD)"
        raise CliError(f"--start: {detail}") from None
    if clock.at(7.0 * weeks) > now:
        raise CliError(
            f"--start {start} with --weeks {weeks}: the last cutoff"
            f" {clock.at(7.0 * weeks):%Y-%m-%d} has not passed yet"
        )
    return clock


def _start(stack: DemoStack) -> None:
    with console.progress() as bar:
        task = bar.add_task("starting NATS, PostgreSQL and the 4 services", total=4)
        stack.start()
        stack.wait_ready(180, lambda: bar.advance(task))


def _read_units(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            units = list(csv.DictReader(f))
    except OSError as exc:
        raise CliError(f"{path}: cannot read it ({exc.strerror})") from None
    if not units:
        raise CliError(f"{path}: no units under its header")
    return units


def _run(
    api: Api,
    config: Config,
    units_file: Path,
    clock: Clock,
    scale: float,
    weeks: int,
    seed: int,
) -> dict[str, Any]:
    units = _read_units(units_file)
    total = max(1, round(3440 * scale))
    campaign = plan(units, clock, issues=total, weeks=weeks, seed=seed)
    _register(api, units_file, units, campaign)
    _backfill(api, campaign)
    _scores(api, campaign)
    _wait_lag(config, "ranking", "ranking reads the campaign")
    year = campaign.cutoffs[-1].astimezone(TZ).year
    settled = api.get("incentives", f"/v1/funds/{year}")["editions_settled"]
    published = _publish(api, campaign)
    new = sum(1 for e in published if e.get("created") and e.get("revision") == 1)
    _wait_settled(api, year, settled + new)
    _wait_quiet(config, "notify plans the notices")
    _wait_deliveries(api)
    return {
        "issues": len(campaign.issues),
        "rectified": campaign.count("rectified") + campaign.count("verified"),
        "void": campaign.count("void"),
        "year": year,
        "edition": (published[-1]["year"], published[-1]["number"]),
    }


def units_csv(units: list[dict[str, str]], registered_at: datetime) -> bytes:
    """The directory with a ``registered_at`` column: every unit as of ``registered_at``."""
    buffer = io.StringIO()
    columns = [c for c in units[0] if c != "registered_at"] + ["registered_at"]
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({**u, "registered_at": registered_at.isoformat()} for u in units)
    return buffer.getvalue().encode("utf-8")


def _register(api: Api, units_file: Path, units: list[dict[str, str]], campaign: Campaign) -> None:
    """R1.3: the units as of the campaign's start, so that its first cutoff ranks them."""
    upload = (units_file.name, units_csv(units, campaign.starts_at), "text/csv")
    result = api.post("issues", "/v1/units/import", files={"file": upload})
    console.out().print(
        f"units: {result['registered']} registered as of {campaign.starts_at:%Y-%m-%d %H:%M}"
        f" Asia/Shanghai, {result['updated']} updated, {result['unchanged']} unchanged"
    )
    if result["registered"] < len(units):
        console.err().print(
            "units already in the directory keep their registration time: editions with"
            " earlier cutoffs do not rank them (R1.3)"
        )


def _backfill(api: Api, campaign: Campaign) -> None:
    with console.progress() as bar:
        task = bar.add_task("backfilling issues (R2.1)", total=len(campaign.issues))
        for body, count in batches(campaign.issues, MAX_BODY):
            api.post(
                "issues",
                "/v1/issues/import",
                content=body,
                headers={"content-type": "application/json"},
            )
            bar.advance(task, count)


def batches(records: list[dict[str, Any]], max_bytes: int) -> list[tuple[bytes, int]]:
    """``{"issues": [...]}`` bodies of at most ``max_bytes`` (the services' request limit)
    and ``BATCH`` records each, in order."""
    found: list[tuple[bytes, int]] = []
    current: list[bytes] = []
    size = len(b'{"issues":[]}')
    for record in records:
        item = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        if current and (size + len(item) + 1 > max_bytes or len(current) >= BATCH):
            found.append((b'{"issues":[' + b",".join(current) + b"]}", len(current)))
            current, size = [], len(b'{"issues":[]}')
        current.append(item)
        size += len(item) + 1
    if current:
        found.append((b'{"issues":[' + b",".join(current) + b"]}", len(current)))
    return found


def _scores(api: Api, campaign: Campaign) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["unit_id", "month", "score", "source", "recorded_at"])
    writer.writeheader()
    writer.writerows(campaign.scores)
    upload = ("scores.csv", buffer.getvalue().encode("utf-8"), "text/csv")
    api.post("ranking", "/v1/assessments/import", files={"file": upload})
    console.out().print(f"assessment scores: {len(campaign.scores)} recorded (R4.2)")


def _wait_lag(config: Config, prefix: str, what: str, within: float = 300) -> None:
    """Until the durables whose names start with ``prefix`` have nothing left to process."""
    deadline = time.monotonic() + within
    with console.progress() as bar:
        task = bar.add_task(what, total=None)
        first = None
        while True:
            lag = total_lag(bus.run(config.nats_url, bus.streams), prefix)
            first = first or lag
            bar.update(task, total=first or 1, completed=(first or 1) - lag)
            if lag == 0:
                return
            if time.monotonic() > deadline:
                raise CliError(f"{what}: still {lag} messages behind after {within:.0f}s")
            time.sleep(0.5)


def _wait_settled(api: Api, year: int, editions: int, within: float = 300) -> None:
    """Until incentives has settled every edition we published (R6.2)."""
    deadline = time.monotonic() + within
    with console.progress() as bar:
        task = bar.add_task("incentives settles the editions (R6)", total=editions)
        while (done := api.get("incentives", f"/v1/funds/{year}")["editions_settled"]) < editions:
            bar.update(task, completed=done)
            if time.monotonic() > deadline:
                raise CliError(f"incentives settled {done} of {editions} editions in {within}s")
            time.sleep(0.5)
        bar.update(task, completed=editions)


def _wait_quiet(config: Config, what: str, within: float = 300) -> None:
    """Until every durable is caught up and no stream grew for two polls in a row."""
    deadline = time.monotonic() + within
    with console.progress() as bar:
        task = bar.add_task(what, total=None)
        seen: list[int] = []
        while True:
            streams = bus.run(config.nats_url, bus.streams)
            total = sum(s.last_seq for s in streams)
            seen = [*seen, total][-3:] if total_lag(streams) == 0 else []
            if len(seen) == 3 and len(set(seen)) == 1:
                return
            if time.monotonic() > deadline:
                raise CliError(f"{what}: the bus did not settle within {within:.0f}s")
            time.sleep(0.5)
            bar.update(task, description=f"{what} ({total_lag(streams)} behind)")


def _publish(api: Api, campaign: Campaign) -> list[dict[str, Any]]:
    """R4.1: an edition for each real Monday cutoff, oldest first (all in the past)."""
    published = []
    with console.progress() as bar:
        task = bar.add_task("publishing the weekly editions (R4.1)", total=len(campaign.cutoffs))
        for cutoff in campaign.cutoffs:
            bar.update(task, description=f"publishing the edition of {cutoff:%Y-%m-%d} (R4.1)")
            published.append(api.post("ranking", "/v1/editions", {"cutoff": cutoff.isoformat()}))
            bar.advance(task)
    return published


def _wait_deliveries(api: Api, within: float = 300) -> None:
    deadline = time.monotonic() + within
    with console.progress() as bar:
        task = bar.add_task("notify delivers the notices (R5)", total=None)
        while pending := api.get("notify", "/v1/notifications", params={"status": "pending"}):
            bar.update(task, description=f"notify delivers the notices ({len(pending)} pending)")
            if time.monotonic() > deadline:
                console.err().print(f"{len(pending)} notices still pending; going on")
                return
            time.sleep(1)


def _final(api: Api, counts: dict[str, Any], receiver: Receiver | None) -> None:
    out = console.out()
    year, number = counts["edition"]
    out.print(board(api.get("ranking", f"/v1/editions/{year}/{number}")))
    year = counts["year"]
    fund = api.get("incentives", f"/v1/funds/{year}")
    entries = api.get("incentives", "/v1/ledger", params={"year": year})
    out.print(fund_view(fund, entries, unit_names(api)))
    sent = receiver.counts if receiver is not None else _notices_by_api(api)
    out.print(notices_table(sent))
    counted = counts["issues"] - counts["void"]
    share = counts["rectified"] / counted if counted else 0.0
    out.print(
        f"campaign: {counts['issues']} issues, {counts['rectified']} rectified"
        f" ({share:.1%} of {counted} not void), {counts['void']} void;"
        f" {sum(sent.values())} notices sent"
    )


def _notices_by_api(api: Api) -> Counter[str]:
    found: Counter[str] = Counter()
    for kind in NOTICE_NAMES:
        found[kind] = len(api.get("notify", "/v1/notifications", params={"type": kind}))
    return found


def notices_table(counts: Counter[str]) -> Table:
    table = Table(title="已发送的通知", header_style="bold")
    table.add_column("类型")
    table.add_column("数量", justify="right")
    for kind, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if n:
            table.add_row(f"{NOTICE_NAMES.get(kind, kind)}（{kind}）", str(n))
    table.add_row("合计", str(sum(counts.values())), style="bold")
    return table


def _print_kept(stack: DemoStack) -> None:
    urls = " ".join(f"--{s}-url {u}" for s, u in stack.urls.items())
    console.out().print(
        f"the stack keeps running (data in {stack.data_dir}, log {stack.log});"
        f" stop it with: kill -TERM -{stack.proc.pid if stack.proc else ''}\n"
        f"try: chuangwen {urls} --nats-url {stack.nats_url} editions show"
    )
