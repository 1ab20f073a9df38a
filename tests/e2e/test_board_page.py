"""The board page (issue 8) in headless Chromium against the whole stack, on a secured bus (the
ranking service reads ``incentives.v1.allocated`` for the fund under deny-by-default
permissions).

Units report and rectify issues through the issues API, the office publishes two editions, the
incentives service settles them; then the page must show the expected red and black units,
draw its five charts with ECharts served by the ranking service itself (no other host is ever
asked), and print without the charts. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from services.ranking.settings import DEFAULT_ECHARTS_FILE
from services.runtime import embedded
from tests.conftest import SECURED_CONFIG, SecuredServers, Servers, nats_passwords

from .stack import ROOT, Receiver, Stack

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHARTS = (
    "chart-category-trend",
    "chart-unit-trend",
    "chart-fund-total",
    "chart-fund-units",
    "chart-overdue",
)
# (unit_id, name, category, parent, reported, rectified by edition 1, rectified by edition 2):
# distinct rates at edition 2, so its lists are unambiguous (R4.5: red top 5 / 1 / 1, black
# bottom 3 / 1 / 1). Issues are found 5 days ago, so every open one is overdue now (R2.4).
UNITS = [
    ("board-dist-pj", "蓬江区", "district", None, 4, 2, 4),
    ("board-dist-jh", "江海区", "district", None, 4, 2, 3),
    ("board-dist-xh", "新会区", "district", None, 4, 1, 1),
    ("board-town-bs", "白沙街道", "town", "board-dist-pj", 2, 1, 2),
    ("board-town-wh", "外海街道", "town", "board-dist-jh", 2, 0, 1),
    ("board-dept-cg", "市城管局", "department", None, 4, 3, 4),
    ("board-dept-zj", "市住建局", "department", None, 5, 2, 4),
    ("board-dept-jt", "市交通局", "department", None, 4, 2, 3),
    ("board-dept-sj", "市市场监管局", "department", None, 3, 1, 2),
    ("board-dept-hb", "市生态环境局", "department", None, 5, 1, 3),
    ("board-dept-sw", "市水务局", "department", None, 2, 0, 1),
    ("board-dept-ws", "市卫健局", "department", None, 3, 1, 1),
    ("board-dept-gh", "市公安局", "department", None, 4, 0, 1),
]
RED = {
    "department": ["市城管局", "市住建局", "市交通局", "市市场监管局", "市生态环境局"],
    "district": ["蓬江区"],
    "town": ["白沙街道"],
}
BLACK = {  # worst first
    "department": ["市公安局", "市卫健局", "市水务局"],
    "district": ["新会区"],
    "town": ["外海街道"],
}


def chromium_or_skip() -> str:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.skip(
            "the board page test needs Debian's chromium at /usr/bin/chromium:"
            " `apt-get install chromium` (as root; .ci/run does it)"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def board_stack(servers: Servers) -> Iterator[Stack]:
    """The four services on a secured NATS server and a database of their own (the board
    asserts on whole lists, which other tests' units would change)."""
    root = servers.root / f"board-{uuid.uuid4().hex[:6]}"
    root.mkdir(parents=True)
    passwords = nats_passwords()
    env = {f"{user.upper()}_NATS_PASSWORD": pw for user, pw in passwords.items()}
    port = embedded.free_port()
    nats = embedded.start_nats(port, root / "nats", root / "nats.log", SECURED_CONFIG, env)
    name = f"board_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    secured = SecuredServers(
        nats_url=f"nats://127.0.0.1:{port}",
        database_url=servers.database_url.rsplit("/", 1)[0] + f"/{name}",
        root=root,
        passwords=passwords,
    )
    receiver = Receiver()
    receiver.start()
    urls = {s: secured.url_for(s) for s in ("issues", "ranking", "notify", "incentives")}
    stack = Stack(secured.nats_url, secured.database_url, root / "logs", receiver, nats_urls=urls)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        receiver.stop()
        embedded.stop(nats)


def eventually(check: Any, within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        time.sleep(0.3)
    return result


def post(client: httpx.Client, url: str, body: dict[str, Any], token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    response = client.post(url, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def publish_edition(client: httpx.Client, stack: Stack, rectified: int) -> dict[str, Any]:
    """Wait until ranking has applied every report and ``rectified`` fixes, then publish the
    edition of a cutoff that has just passed (as in test_whole_chain)."""
    ranking = stack.url("ranking")
    cutoff = datetime.now(UTC) + timedelta(seconds=1)

    def projected() -> bool:
        preview = post(client, f"{ranking}/v1/editions/preview", {"cutoff": cutoff.isoformat()})
        rows = [r for c in preview["categories"].values() for r in c["rows"]]
        counts = (sum(r["reported"] for r in rows), sum(r["rectified"] for r in rows))
        return counts == (sum(u[4] for u in UNITS), rectified)

    eventually(projected)
    time.sleep(1.2)  # the cutoff must have passed
    return dict(post(client, f"{ranking}/v1/editions", {"cutoff": cutoff.isoformat()}))


def run_campaign(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """Units, issues and fixes through the issues API; two editions published."""
    client = httpx.Client(timeout=30, headers={"Authorization": "Bearer dev-office"})
    issues = stack.url("issues")
    found = datetime.now(UTC) - timedelta(days=5)
    reported: dict[str, list[str]] = {}
    for unit_id, name, category, parent, count, _, _ in UNITS:
        body = {"unit_id": unit_id, "name": name, "category": category, "parent_id": parent}
        post(client, f"{issues}/v1/units", body)
        for _ in range(count):
            issue = post(
                client,
                f"{issues}/v1/issues",
                {
                    "unit_id": unit_id,
                    "category": "暴露垃圾",
                    "point_type": "community",
                    "description": "小区门口垃圾未清理",
                    "location": {"address": "江门市"},
                    "found_at": found.isoformat(),
                    "inspector": "张三",
                    "team": "第一督查组",
                },
            )
            reported.setdefault(unit_id, []).append(issue["issue_id"])

    def rectify(upto: int) -> None:
        for unit_id, *_, first, second in UNITS:
            done = first if upto == 1 else second
            start = 0 if upto == 1 else first
            for issue_id in reported[unit_id][start:done]:
                post(
                    client,
                    f"{issues}/v1/issues/{issue_id}/rectification",
                    {"evidence": ["https://photos.example/fixed.jpg"]},
                    token=f"dev-unit-{unit_id}",
                )

    rectify(1)
    first = publish_edition(client, stack, sum(u[5] for u in UNITS))
    rectify(2)
    second = publish_edition(client, stack, sum(u[6] for u in UNITS))
    return first, second


async def test_the_board_shows_the_lists_and_draws_every_chart(board_stack: Stack) -> None:
    executable = chromium_or_skip()
    assert DEFAULT_ECHARTS_FILE.is_file(), "ECharts is not installed: run `make install` (npm)"
    from playwright.async_api import async_playwright

    first, second = await asyncio.to_thread(run_campaign, board_stack)
    assert (first["number"], second["number"]) == (1, 2)
    base = board_stack.url("ranking")

    def settled() -> dict[str, Any] | None:
        data = httpx.get(f"{base}/v1/board", timeout=10).json()  # public: no token
        return data if data["fund"].get("editions_settled") == 2 else None

    data = await asyncio.to_thread(eventually, settled)
    assert data["fund"]["allocated_fen"] + data["fund"]["remaining_fen"] == 800_000_000
    assert {u["unit_id"] for u in data["fund"]["units"]} <= {u[0] for u in UNITS if u[2] != "town"}
    assert data["overdue"]["total"] == sum(u[4] - u[6] for u in UNITS)

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            requested: list[str] = []
            problems: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            await page.goto(f"{base}/board", wait_until="networkidle")
            await page.wait_for_selector("#board .list")
            assert "2" in (await page.text_content("#edition-title") or "")

            for category in RED:
                for kind, expected in (("red", RED), ("black", BLACK)):
                    where = f'.list[data-list="{kind}"][data-category="{category}"]'
                    names = await page.locator(f"{where} tbody td:nth-child(2)").all_text_contents()
                    assert names == expected[category], (kind, category, names)

            for chart in CHARTS:
                await page.wait_for_function(
                    "id => { const d = document.getElementById(id); const c = d &&"
                    " d.querySelector('canvas'); return c && c.width > 0 && c.height > 0; }",
                    arg=chart,
                )
                drawn = await page.evaluate(
                    """id => {
                        const dom = document.getElementById(id);
                        const chart = echarts.getInstanceByDom(dom);
                        const series = chart ? chart.getOption().series : [];
                        return {
                            series: series.length,
                            points: series.reduce((n, s) => n + (s.data || []).length, 0),
                            width: dom.getBoundingClientRect().width,
                            height: dom.getBoundingClientRect().height,
                        };
                    }""",
                    chart,
                )
                assert drawn["series"] > 0 and drawn["points"] > 0, (chart, drawn)
                assert drawn["width"] > 100 and drawn["height"] > 100, (chart, drawn)
            await page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)

            # The print view: the board alone, in the order the newspaper prints it.
            await page.goto(f"{base}/board?print=1", wait_until="networkidle")
            await page.wait_for_selector("#board .list")
            assert not await page.locator(".charts").is_visible()
            await page.emulate_media(media="print")
            assert not await page.locator("nav").is_visible()
            await page.screenshot(path=str(ARTIFACTS / "board-print.png"), full_page=True)
        finally:
            await browser.close()

    assert problems == []
    # Served by the ranking service itself: no CDN, nothing from any other host.
    assert requested and all(url.startswith(base + "/") for url in requested), requested
    assert f"{base}/board/static/echarts.min.js" in requested
