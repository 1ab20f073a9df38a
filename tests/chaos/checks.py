"""What the chaos tests share on top of the harness: the services' test settings, waiting for
ranking's input position and for the notices, and expected-versus-exposed comparisons."""

from __future__ import annotations

import json
from typing import Any

import httpx

from services.ranking.projection import FACT_TABLES
from tests.e2e.stack import WEBHOOK_SECRET

from .harness import FAST_NOTIFY, OFFICE, FlakyReceiver, eventually, query, service_env
from .world import CUTOFF, World


def ranking_env(nats_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """Ranking under test: no weekly schedule; a killed replica's unacknowledged batch comes
    back after 4 s instead of 60 s."""
    return service_env(
        nats_url,
        database_url,
        RANKING_SCHEDULE_ENABLED="false",
        RANKING_ACK_WAIT_SECONDS="4",
        **extra,
    )


def whole_system_env(nats_url: str, database_url: str, webhook_url: str) -> dict[str, str]:
    """All four services on these servers: ranking as under test, no issues scheduler, notify
    delivering to a local receiver and retrying within seconds."""
    return {
        **ranking_env(nats_url, database_url),
        "ISSUES_SCHEDULER_ENABLED": "false",
        "NOTIFY_WEBHOOK_URL": webhook_url,
        "NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "NOTIFY_ALLOW_PRIVATE_TARGETS": "true",
        **FAST_NOTIFY,
    }


async def watermark(database_url: str, stream: str = "ISSUES") -> int:
    rows = await query(
        database_url, "SELECT watermark FROM ranking.input_positions WHERE stream = %s", (stream,)
    )
    return int(rows[0]["watermark"]) if rows else 0


async def ranking_reaches(database_url: str, position: int, within: float, what: str) -> None:
    """Wait until ranking's ``ISSUES`` input position is exactly ``position``."""

    async def reached() -> bool:
        return await watermark(database_url) == position

    await eventually(reached, within, what)


async def assert_one_notice_per_issue(
    receiver: FlakyReceiver, expected: set[str], within: float = 120
) -> None:
    """R5.1: wait until every issue of ``expected`` has its supervision notice; then exactly
    those issues have one, and none has two."""
    notices = receiver.supervision_notices

    async def all_notified() -> bool:
        return set(notices()) >= expected

    await eventually(all_notified, within, "one supervision notice per issue")
    assert set(notices()) == expected
    assert all(len(ids) == 1 for ids in notices().values()), "a notice was planned twice"


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


async def assert_ranking_matches(
    world: World,
    ranking_url: str,
    database_url: str,
    position: int | None = None,
    others: int = 0,
) -> None:
    """Rates and a published edition equal the expected ones; each event applied once.
    ``position``: the ISSUES stream's last sequence (default: one message per event);
    ``others``: events on the stream besides the world's (from a real issues service)."""
    position = len(world.events) if position is None else position
    async with httpx.AsyncClient(base_url=ranking_url, headers=OFFICE, timeout=60) as client:
        rates = (await client.get("/v1/rates", params={"at": CUTOFF.isoformat()})).json()
        assert rates.pop("input_positions")["ISSUES"] == position
        assert rates == as_json(world.expected_rates())
        response = await client.post("/v1/editions", json={"cutoff": CUTOFF.isoformat()})
        assert response.status_code == 200, response.text
        edition = response.json()
    expected = as_json(world.expected_edition())
    assert {k: edition[k] for k in expected} == expected
    assert edition["input_positions"]["ISSUES"] == position

    # A fact's row is ranking's record that its event was applied (one per event id); R2.6
    # requests and refusals record nothing. Every other event is one row, the others' too.
    facts_sent = {e.event_id for e in world.events if FACT_TABLES[type(e)] is not None}
    applied = await query(
        database_url,
        "SELECT event_id FROM ranking.issue_facts"
        " UNION ALL SELECT event_id FROM ranking.unit_facts",
    )
    assert {r["event_id"] for r in applied} >= facts_sent, "an event was lost"
    assert len(applied) == len(facts_sent) + others, "an event was lost or applied twice"
    if others:
        return
    (facts,) = await query(
        database_url,
        "SELECT (SELECT count(*) FROM ranking.issue_facts) AS issues,"
        " (SELECT count(*) FROM ranking.unit_facts) AS units,"
        " (SELECT count(*) FROM ranking.applied_seqs) AS gaps",
    )
    assert facts == {
        "issues": len(world.issue_facts),
        "units": len(world.unit_facts),
        "gaps": 0,
    }, "an event was applied twice or a position left a gap"
