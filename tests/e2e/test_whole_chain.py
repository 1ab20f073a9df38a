"""The whole chain on real servers, through public interfaces only:
issues (HTTP) → ranking (edition) → incentives (allocation) + notify (webhook deliveries)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.notify.domain.webhook_signature import verify
from tests.conftest import SecuredServers, Servers

from .stack import WEBHOOK_SECRET, Receiver, Stack

pytestmark = pytest.mark.e2e

# (unit_id, category, parent, reported, rectified): distinct rates so the lists are unambiguous.
UNITS = [
    ("e2e-dist-a", "district", None, 2, 2),
    ("e2e-dist-b", "district", None, 2, 1),
    ("e2e-dist-c", "district", None, 2, 0),
    ("e2e-town-a", "town", "e2e-dist-a", 1, 1),
    ("e2e-town-b", "town", "e2e-dist-b", 2, 1),
    ("e2e-dept-1", "department", None, 4, 4),
    ("e2e-dept-2", "department", None, 5, 4),
    ("e2e-dept-3", "department", None, 4, 3),
    ("e2e-dept-4", "department", None, 3, 2),
    ("e2e-dept-5", "department", None, 5, 3),
    ("e2e-dept-6", "department", None, 2, 1),
    ("e2e-dept-7", "department", None, 3, 1),
    ("e2e-dept-8", "department", None, 4, 1),
]


def mondays(year: int) -> int:
    """R6.2 E: the weekly Monday cutoffs of a calendar year (an oracle independent of the
    service's own calendar code)."""
    day, count = date(year, 1, 1), 0
    while day.year == year:
        count += day.weekday() == 0
        day += timedelta(days=1)
    return count


def hamilton(pool: int, scores: dict[str, Fraction]) -> dict[str, int]:
    """R6.3 by hand: floors of the exact quotas, then one fen each by largest remainder, ties
    by higher score, then unit id."""
    total = sum(scores.values())
    quotas = {u: pool * s / total for u, s in scores.items()}
    shares = {u: int(q) for u, q in quotas.items()}
    left = pool - sum(shares.values())
    order = sorted(scores, key=lambda u: (-(quotas[u] - shares[u]), -scores[u], u))
    for unit in order[:left]:
        shares[unit] += 1
    return {u: f for u, f in shares.items() if f}


@pytest.fixture(scope="module", params=["open-bus", "secured-bus"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """The chain on a NATS server of its own, without users, then with deploy/'s users and
    deny-by-default permissions (each service connects as itself: issue 7)."""
    receiver = Receiver()
    receiver.start()
    if request.param == "secured-bus":
        secured: SecuredServers = request.getfixturevalue("secured_servers")
        urls = {
            service: secured.url_for(service)
            for service in ("issues", "ranking", "notify", "incentives")
        }
        stack = Stack(
            secured.nats_url,
            secured.database_url,
            secured.root / "e2e-logs",
            receiver,
            nats_urls=urls,
        )
    else:
        servers: Servers = request.getfixturevalue("isolated_servers")
        stack = Stack(servers.nats_url, servers.database_url, servers.root / "e2e-logs", receiver)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        receiver.stop()


def eventually(check: Callable[[], Any], within: float = 60.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        time.sleep(0.3)


def post(
    client: httpx.Client, url: str, body: dict[str, Any], status: int = 200, token: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def test_reports_flow_into_rates_lists_money_and_notices(stack: Stack) -> None:
    # Dev tokens (AUTH_MODE=dev): the office acts unless a unit must act for itself.
    client = httpx.Client(timeout=30, headers={"Authorization": "Bearer dev-office"})
    issues, ranking = stack.url("issues"), stack.url("ranking")
    found = datetime.now(UTC) - timedelta(hours=1)
    for unit_id, category, parent, reported, rectified in UNITS:
        post(
            client,
            f"{issues}/v1/units",
            {
                "unit_id": unit_id,
                "name": f"单位{unit_id[-1]}",
                "category": category,
                "parent_id": parent,
            },
            201,
        )
        for n in range(reported):
            issue = post(
                client,
                f"{issues}/v1/issues",
                {
                    "unit_id": unit_id,
                    "category": "暴露垃圾",
                    "point_type": "community",
                    "description": "小区门口垃圾未清理",
                    "location": {"address": "江门市蓬江区"},
                    "found_at": found.isoformat(),
                    "inspector": "张三",
                    "team": "第一督查组",
                },
                201,
            )
            assert issue["state"] == "open" and issue["number"].startswith("JM-")
            if n < rectified:
                done = post(
                    client,
                    f"{issues}/v1/issues/{issue['issue_id']}/rectification",
                    {"evidence": ["https://photos.example/fixed.jpg"]},
                    token=f"dev-unit-{unit_id}",
                )
                assert done["state"] == "rectified"

    # Bad input is refused with field paths and changes nothing.
    bad = client.post(f"{issues}/v1/issues", json={"unit_id": "e2e-dept-1", "category": ""})
    assert bad.status_code == 422
    assert any(err["loc"][-1] == "description" for err in bad.json()["detail"])

    total = sum(u[3] for u in UNITS)
    cutoff = datetime.now(UTC) + timedelta(seconds=1)

    def projected() -> bool:
        preview = post(client, f"{ranking}/v1/editions/preview", {"cutoff": cutoff.isoformat()})
        rows = [
            r
            for c in preview["categories"].values()
            for r in c["rows"]
            if r["unit_id"].startswith("e2e-")
        ]
        reported = sum(int(r["reported"]) for r in rows)
        rectified = sum(int(r["rectified"]) for r in rows)
        return reported == total and rectified == sum(u[4] for u in UNITS)

    eventually(projected)
    time.sleep(1.2)  # the cutoff must be in the past so that nothing later can change it
    edition = post(client, f"{ranking}/v1/editions", {"cutoff": cutoff.isoformat()})

    # R3: rates as exact fractions with a percentage display.
    rows = {r["unit_id"]: r for c in edition["categories"].values() for r in c["rows"]}
    assert rows["e2e-dept-2"]["rate"] == {"exact": "4/5", "display": "80.00"}
    assert rows["e2e-dept-4"]["rate"]["display"] == "66.67"
    # R4.5: red and black lists per category.
    cats = edition["categories"]
    assert cats["department"]["red"] == [f"e2e-dept-{i}" for i in range(1, 6)]
    assert cats["department"]["black"] == ["e2e-dept-6", "e2e-dept-7", "e2e-dept-8"]
    assert cats["district"]["red"] == ["e2e-dist-a"]
    assert cats["district"]["black"] == ["e2e-dist-c"]
    assert cats["town"]["red"] == ["e2e-town-a"] and cats["town"]["black"] == ["e2e-town-b"]
    # R4.1: publishing the same cutoff again yields the same edition.
    again = post(client, f"{ranking}/v1/editions", {"cutoff": cutoff.isoformat()})
    assert (again["number"], again["revision"]) == (edition["number"], edition["revision"])

    # R6.2-R6.3: the pool, split to the fen among red districts and departments.
    year = cutoff.astimezone(ZoneInfo("Asia/Shanghai")).year
    pool = 800_000_000 // mondays(year)  # R6.2 with k = 0
    incentives = stack.url("incentives")

    def allocated() -> Any:
        r = client.get(f"{incentives}/v1/allocations/{year}/{edition['number']}")
        return r.json() if r.status_code == 200 else None

    allocation = eventually(allocated)
    paid = {p["unit_id"]: p["fen"] for p in allocation["paid"]}
    assert sum(paid.values()) == pool
    red = [*cats["department"]["red"], *cats["district"]["red"]]
    scores = {u: Fraction(rows[u]["composite"]["exact"]) for u in red}
    assert paid == hamilton(pool, scores)
    assert "e2e-town-a" not in paid and not set(paid) & set(cats["department"]["black"])
    fund = client.get(f"{incentives}/v1/funds/{year}").json()
    assert fund["allocated_fen"] == pool and fund["remaining_fen"] == 800_000_000 - pool

    # R5.2-R5.3: notices reached a real local receiver, signed per Standard Webhooks.
    black = {"e2e-dept-6", "e2e-dept-7", "e2e-dept-8", "e2e-dist-c", "e2e-town-b"}

    def criticised() -> bool:
        return {
            b["unit_id"] for b in stack.receiver.bodies() if b["notice_type"] == "criticism"
        } >= black

    eventually(criticised)
    sample = stack.receiver.received[0]
    verify(WEBHOOK_SECRET, sample["headers"], sample["body"], now=int(time.time()))
    talks = client.get(f"{stack.url('notify')}/v1/talks", params={"unit_id": "e2e-dept-8"})
    assert [t["level"] for t in talks.json()] == ["city_leader"]


def test_no_secret_reaches_a_log_and_the_redaction_marker_shows_where_one_was_handled(
    stack: Stack,
) -> None:
    """Issue 6: webhook secrets (and, on the secured bus, NATS passwords) never reach a log; the
    positive control is the redaction marker where notify handled its secret."""
    logs = {path.name: path.read_text(errors="replace") for path in stack.logs.glob("*.log")}
    assert set(logs) >= {"issues.log", "ranking.log", "notify.log", "incentives.log"}
    secrets = [WEBHOOK_SECRET, WEBHOOK_SECRET.removeprefix("whsec_")]
    for url in stack.nats_urls.values():
        secrets.append(url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1])
    for name, text in logs.items():
        for secret in secrets:
            assert secret not in text, f"a secret reached {name}"
    assert '"webhook_secret": "**********"' in logs["notify.log"]
