"""Replaying ranking's input streams from the start into a fresh projection (the rebuild, R7).

The same contracts and row builders as the live consumers, but batched: one transaction and one
pipelined ``executemany`` per table per batch. Replaying in stream order from sequence 1 handles
every sequence, so each batch moves the input position to its last sequence; a message that
fails its contract is counted as handled, exactly as the live consumer's dead-letter hook does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import TypeAdapter, ValidationError

from services.contracts.assessments import AssessmentScored
from services.contracts.envelope import Event
from services.contracts.streams import ASSESSMENTS, StreamSpec
from services.runtime.db import Pool

from . import projection as p
from .consumers import RECORDERS, IssuesStreamEvent
from .domain.issues import IssueFact
from .domain.scores import AssessmentScore
from .domain.units import UnitFact

BATCH = 2000
_TABLES: dict[Callable[..., Any], tuple[str, Callable[[Event, int], p.Row]]] = {
    p.record_unit_fact: (p.UNIT_FACT_SQL, p.unit_fact_row),
    p.record_issue_fact: (p.ISSUE_FACT_SQL, p.issue_fact_row),
    p.record_score: (p.SCORE_FACT_SQL, p.score_fact_row),
}
_issues_stream: TypeAdapter[Event] = TypeAdapter(IssuesStreamEvent)
_assessments_stream: TypeAdapter[Event] = TypeAdapter(AssessmentScored)


FETCH_SECONDS = 2.0
FETCH_ATTEMPTS = 3


class ReplayIncomplete(RuntimeError):
    """The stream stopped answering before its last sequence: a rebuild from it would leave a
    truncated projection (and report editions as different, or worse, the same)."""


async def stream_messages(
    js: JetStreamContext, spec: StreamSpec, subject: str | None = None
) -> AsyncIterator[tuple[int, bytes]]:
    """(sequence, data) of every message on ``spec`` (optionally one subject) up to the last
    sequence it held when called, in order; an ephemeral consumer that needs no acks.

    Unfiltered, every sequence up to that last one must arrive: a fetch that times out
    ``FETCH_ATTEMPTS`` times in a row before it raises `ReplayIncomplete`. Filtered on a
    subject, a timeout is the end (the subject may have nothing more up to the last
    sequence)."""
    try:
        last = (await js.stream_info(spec.name)).state.last_seq
    except NotFoundError:
        return
    if last == 0:
        return
    sub = await js.pull_subscribe(
        subject or ">",
        stream=spec.name,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=60.0
        ),
    )
    try:
        seq, timeouts = 0, 0
        while seq < last:
            try:
                batch = await sub.fetch(BATCH, timeout=FETCH_SECONDS)
            except TimeoutError:
                if subject is not None:
                    return  # the filtered subject has nothing more up to ``last``
                timeouts += 1
                if timeouts < FETCH_ATTEMPTS:
                    continue
                raise ReplayIncomplete(
                    f"replay of {spec.name} stopped at #{seq} of #{last}: no message for"
                    f" {FETCH_ATTEMPTS} fetches of {FETCH_SECONDS:g} s; nothing is rebuilt from"
                    " a truncated stream, retry"
                ) from None
            timeouts = 0
            for msg in batch:
                seq = msg.metadata.sequence.stream
                if seq > last:
                    return
                yield seq, msg.data
    finally:
        await sub.unsubscribe()


def _parse(spec: StreamSpec, data: bytes) -> Event | None:
    adapter = _assessments_stream if spec.name == ASSESSMENTS.name else _issues_stream
    try:
        return adapter.validate_json(data)
    except ValidationError:
        return None  # dead-lettered as invalid by the live consumer: handled, nothing applied


async def replay_stream(js: JetStreamContext, pool: Pool, spec: StreamSpec) -> int:
    """Apply every message of ``spec`` to the projection; returns how many were read."""
    count = 0
    rows: dict[str, list[p.Row]] = {}
    last = 0
    async for seq, data in stream_messages(js, spec):
        event = _parse(spec, data)
        if event is not None and (table := _TABLES.get(RECORDERS[type(event)])):
            rows.setdefault(table[0], []).append(table[1](event, seq))
        count, last = count + 1, seq
        if count % BATCH == 0:
            await _write(pool, spec.name, rows, last)
            rows = {}
    if count:
        await _write(pool, spec.name, rows, last)
    return count


async def _write(pool: Pool, stream: str, rows: dict[str, list[p.Row]], last: int) -> None:
    async with pool.connection() as conn, conn.transaction():
        cur = conn.cursor()
        for statement, values in rows.items():
            await cur.executemany(statement, values)
        await conn.execute(
            "INSERT INTO input_positions (stream, watermark) VALUES (%s, %s)"
            " ON CONFLICT (stream) DO UPDATE SET watermark = EXCLUDED.watermark",
            (stream, last),
        )


@dataclass
class AllFacts:
    """Every fact of the projection with its stream sequence, to cut at any input position."""

    units: list[tuple[int, UnitFact]] = field(default_factory=list)
    issues: list[tuple[int, IssueFact]] = field(default_factory=list)
    scores: list[tuple[int, AssessmentScore]] = field(default_factory=list)

    def upto(
        self, positions: dict[str, int]
    ) -> tuple[list[UnitFact], list[IssueFact], list[AssessmentScore]]:
        """The facts an edition with these input positions was computed from (R7)."""
        issues_at, scores_at = positions.get("ISSUES", 0), positions.get("ASSESSMENTS", 0)
        return (
            [f for s, f in self.units if s <= issues_at],
            [f for s, f in self.issues if s <= issues_at],
            [f for s, f in self.scores if s <= scores_at],
        )


async def load_all_facts(pool: Pool) -> AllFacts:
    """Every fact of the (replayed) projection, in stream order."""
    async with pool.connection() as conn:
        rows = {}
        for table in ("unit_facts", "issue_facts", "score_facts"):
            cur = await conn.execute(f"SELECT * FROM {table} ORDER BY stream_seq")
            rows[table] = await cur.fetchall()
    return AllFacts(
        units=[(r["stream_seq"], p.unit_fact(r)) for r in rows["unit_facts"]],
        issues=[(r["stream_seq"], p.issue_fact(r)) for r in rows["issue_facts"]],
        scores=[(r["stream_seq"], p.score_fact(r)) for r in rows["score_facts"]],
    )


def decode(data: bytes) -> dict[str, Any]:
    """A stored edition message as a dict."""
    result: dict[str, Any] = json.loads(data)
    return result
