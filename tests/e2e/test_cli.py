"""``chuangwen`` against a real stack: every command, its exit status and key output, and bad
input (unknown unit, malformed file, unknown edition, services or NATS down) as one clear line.

The stack has a NATS server and a database of its own (other e2e modules rank whole
directories); the CLI runs in-process through typer's CliRunner."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
from typer.testing import CliRunner, Result

from cli.app import app
from services.runtime import embedded
from tests.conftest import Servers, _fresh_database

from .stack import ROOT, Receiver, Stack

pytestmark = pytest.mark.e2e
UNITS_FILE = ROOT / "data" / "jiangmen-units.csv"
REGISTERED = "2018-01-01T00:00:00+08:00"  # the demo's campaign start


@pytest.fixture(scope="module")
def stack(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("cli")
    port = embedded.free_port()
    bus = embedded.start_nats(port, root / "nats", root / "nats.log")
    receiver = Receiver()
    receiver.start()
    stack = Stack(
        f"nats://127.0.0.1:{port}", _fresh_database(servers, "cli"), root / "logs", receiver
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        receiver.stop()
        embedded.stop(bus)


def chuangwen(stack: Stack, *args: str, token: str = "dev-office", stdin: str = "") -> Result:
    options = [f"--{s}-url={stack.url(s)}" for s in ("issues", "ranking", "notify", "incentives")]
    options += [f"--nats-url={stack.nats_url}", f"--token={token}"]
    return CliRunner().invoke(app, [*options, *args], input=stdin, catch_exceptions=False)


def error_line(result: Result) -> str:
    """The one error line on stderr."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_units_import_registers_the_directory_and_refuses_bad_files(
    stack: Stack, tmp_path: Path
) -> None:
    # As of the demo's campaign start (R1.3): the demo below (--reuse) ranks them in 2018.
    lines = UNITS_FILE.read_text(encoding="utf-8-sig").splitlines()
    as_of = tmp_path / "units-2018.csv"
    as_of.write_text(
        "\n".join([f"{lines[0]},registered_at", *(f"{x},{REGISTERED}" for x in lines[1:])])
    )
    result = chuangwen(stack, "units", "import", str(as_of))
    assert result.exit_code == 0, result.output
    assert "67 rows — 67 registered" in result.stdout

    later = tmp_path / "later.csv"
    later.write_text(f"{lines[0]},registered_at\nnew-unit,新单位,department,,2999-01-01T00:00Z\n")
    result = chuangwen(stack, "units", "import", str(later))
    assert result.exit_code == 1 and "registered_at" in result.stdout
    assert "1 rows rejected; nothing was imported" in error_line(result)

    bad = tmp_path / "units.csv"
    bad.write_text("unit_id,name,category,parent_id\nfoo,某单位,bogus,\nbar,,district,\n")
    result = chuangwen(stack, "units", "import", str(bad))
    assert result.exit_code == 1
    assert "被拒绝的行" in result.stdout and "bogus" not in error_line(result)
    assert "category" in result.stdout and "name" in result.stdout
    assert "2 rows rejected; nothing was imported" in error_line(result)

    broken = tmp_path / "units.xlsx"
    broken.write_bytes(b"this is not a spreadsheet")
    result = chuangwen(stack, "units", "import", str(broken))
    assert result.exit_code == 1 and "issues answered HTTP 422" in error_line(result)

    result = chuangwen(stack, "units", "import", str(tmp_path / "units.txt"))
    assert result.exit_code == 1 and "not a .csv or .xlsx file" in error_line(result)

    result = chuangwen(stack, "units", "list", token="dev-viewer")
    assert result.exit_code == 0 and "蓬江区" in result.stdout


def test_issues_report_list_show(stack: Stack) -> None:
    report = [
        "issues",
        "report",
        "--category=暴露垃圾",
        "--description=小区门口垃圾未清理",
        "--address=江门市蓬江区",
        "--inspector=张三",
        "--team=第一督查组",
    ]
    result = chuangwen(stack, *report, "--unit=dist-pengjiang", token="dev-inspector")
    assert result.exit_code == 0, result.output
    issue_id = result.stdout.strip().splitlines()[-1].split("(")[1].rstrip(")")
    assert "reported JM-" in result.stdout

    result = chuangwen(stack, *report, "--unit=no-such-unit")
    assert result.exit_code == 1
    assert "unit_id: unknown unit 'no-such-unit'" in error_line(result)

    result = chuangwen(stack, "issues", "list", "--unit=dist-pengjiang", "--status=open")
    assert result.exit_code == 0 and issue_id in result.stdout and "待整改" in result.stdout
    result = chuangwen(stack, "issues", "list", "--status=lost")
    assert result.exit_code == 1 and "--status must be one of" in error_line(result)

    result = chuangwen(stack, "issues", "show", issue_id, token="dev-unit-dist-pengjiang")
    assert result.exit_code == 0 and "处理记录" in result.stdout and "上报" in result.stdout
    result = chuangwen(stack, "issues", "show", "not-a-uuid")
    assert result.exit_code == 1 and "is not an issue ID" in error_line(result)
    missing = "00000000-0000-4000-8000-000000000000"
    result = chuangwen(stack, "issues", "show", missing)
    assert result.exit_code == 1 and "issues answered HTTP 404" in error_line(result)


def test_a_small_demo_then_editions_fund_and_ledger(stack: Stack, tmp_path: Path) -> None:
    started = time.monotonic()
    result = chuangwen(stack, "demo", "--reuse", "--scale=0.03", "--weeks=3")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 120
    assert "2018 年第 3 期红黑榜" in result.stdout and "截止 2018-01-22 00:00" in result.stdout
    assert "红榜 · 市直部门" in result.stdout and "黑榜 · 区（县级市）" in result.stdout
    assert "创文绩效激励资金" in result.stdout and "notices sent" in result.stdout

    result = chuangwen(stack, "editions", "show", token="dev-viewer")
    assert result.exit_code == 0 and "期红黑榜" in result.stdout and "整改率" in result.stdout
    year = 2018  # the demo's campaign runs on the report's calendar
    result = chuangwen(stack, "editions", "show", str(year), "1", "--full")
    assert result.exit_code == 0 and f"{year} 年第 1 期红黑榜" in result.stdout
    assert "截止 2018-01-08 00:00" in result.stdout and "全部排名 · 市直部门" in result.stdout
    result = chuangwen(stack, "editions", "show", "2030", "99")
    assert result.exit_code == 1
    assert error_line(result) == "error: ranking answered HTTP 404: no edition 2030/99"

    cutoff = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    result = chuangwen(stack, "editions", "publish", f"--cutoff={cutoff}", "--preview")
    assert result.exit_code == 0 and "红黑榜预览（未发布）" in result.stdout
    result = chuangwen(stack, "editions", "publish", "--cutoff=someday")
    assert result.exit_code == 1 and "--cutoff: 'someday' is not a date" in error_line(result)
    result = chuangwen(stack, "editions", "publish", f"--cutoff={cutoff}", token="dev-viewer")
    assert result.exit_code == 1 and "HTTP 403" in error_line(result)

    result = chuangwen(stack, "fund", "show", str(year), token="dev-viewer")
    assert result.exit_code == 0 and "8,000,000.00" in result.stdout and "53" in result.stdout
    assert "各单位获得的激励资金" in result.stdout and "尚无分配" not in result.stdout

    csv_file, xlsx_file = tmp_path / "ledger.csv", tmp_path / "ledger.xlsx"
    result = chuangwen(stack, "ledger", "export", f"--year={year}", "--csv", "-o", str(csv_file))
    assert result.exit_code == 0 and "合计" in csv_file.read_text(encoding="utf-8-sig")
    result = chuangwen(stack, "ledger", "export", f"--year={year}", "-o", str(xlsx_file))
    assert result.exit_code == 0 and xlsx_file.read_bytes()[:2] == b"PK"
    result = chuangwen(stack, "ledger", "export", "--year=1999", "-o", str(csv_file))
    assert result.exit_code == 1 and "incentives answered HTTP 422" in error_line(result)


def test_status_shows_health_streams_and_lag(stack: Stack) -> None:
    result = chuangwen(stack, "status", token="dev-ops")
    assert result.exit_code == 0, result.output
    for expected in ("issues", "incentives", "ready", "ISSUES", "RANKING", "ranking-issues"):
        assert expected in result.stdout

    down = chuangwen(stack, "--notify-url=http://127.0.0.1:9", "status")
    assert down.exit_code == 1 and "not healthy: notify" in error_line(down)
    assert "down" in down.stdout
    no_bus = chuangwen(stack, "--nats-url=nats://127.0.0.1:9", "status")
    assert no_bus.exit_code == 1 and "NATS is down or unreachable" in error_line(no_bus)


def test_a_service_that_is_down_or_a_bad_token_is_one_clear_line(stack: Stack) -> None:
    result = chuangwen(stack, "--ranking-url=http://127.0.0.1:9", "editions", "show")
    assert result.exit_code == 1
    assert "the ranking service is down or unreachable at http://127.0.0.1:9" in error_line(result)
    result = chuangwen(stack, "fund", "show", token="not-a-token")
    assert result.exit_code == 1 and "HTTP 401: unknown or revoked token" in error_line(result)
    assert "Traceback" not in result.output


async def _publish_garbage(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish("issues.v1.reported", b'{"not": "an event"}')
    finally:
        await nc.close()


def dlq_count(stack: Stack) -> int:
    result = chuangwen(stack, "dlq", "list", "--limit=1000", token="dev-ops")
    assert result.exit_code == 0, result.output
    return result.stdout.count("issues.v1.reported")


def test_dlq_list_and_replay(stack: Stack) -> None:
    asyncio.run(_publish_garbage(stack.nats_url))
    deadline = time.monotonic() + 60
    while (before := dlq_count(stack)) == 0:  # ranking and notify dead-letter it at once
        assert time.monotonic() < deadline, "nothing was dead-lettered"
        time.sleep(0.5)
    listed = chuangwen(stack, "dlq", "list", "--payload", token="dev-ops")
    assert "issues.v1.reported" in listed.stdout and "ISSUES:" in listed.stdout
    first = next(
        line.split("│")[1].strip()
        for line in listed.stdout.splitlines()
        if "issues.v1.reported" in line and line.startswith("│")
    )

    refused = chuangwen(stack, "dlq", "replay", first, stdin="n\n")
    assert refused.exit_code == 1 and "not confirmed" in error_line(refused)
    replayed = chuangwen(stack, "dlq", "replay", first, "--yes")
    assert replayed.exit_code == 0, replayed.output
    assert f"replayed DLQ {first} → issues.v1.reported (ISSUES seq" in replayed.stdout
    deadline = time.monotonic() + 60
    while dlq_count(stack) <= before:  # delivered again: still invalid, dead-lettered again
        assert time.monotonic() < deadline, "the replay was not delivered again"
        time.sleep(0.5)

    missing = chuangwen(stack, "dlq", "replay", "999999", "--yes")
    assert missing.exit_code == 1 and "no dead letter at DLQ sequence 999999" in error_line(missing)


def test_every_command_has_help_with_an_example() -> None:
    commands = [
        ["units", "import"],
        ["units", "list"],
        ["issues", "report"],
        ["issues", "list"],
        ["issues", "show"],
        ["editions", "publish"],
        ["editions", "show"],
        ["fund", "show"],
        ["ledger", "export"],
        ["dlq", "list"],
        ["dlq", "replay"],
        ["status"],
        ["demo"],
    ]
    for command in commands:
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Example: chuangwen" in result.stdout, command


def test_the_installed_wrapper_runs_the_cli() -> None:
    wrapper = ROOT / ".venv" / "bin" / "chuangwen"
    if not wrapper.exists():
        pytest.skip("run `make install` to write .venv/bin/chuangwen")
    done = subprocess.run([str(wrapper), "--help"], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0 and "chuangwen" in done.stdout
