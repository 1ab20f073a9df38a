"""Replaying ranking's input streams from the start into a fresh projection (the rebuild, R7).

The same contracts and row builders as the live consumers, but batched: one transaction and one
bulk INSERT per table per batch. Replaying in stream order from sequence 1 handles
every sequence, so each batch moves the input position to its last sequence; a message that
fails its contract is counted as handled, exactly as the live consumer's dead-letter hook does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nats.js import JetStreamContext
from pydantic import TypeAdapter, ValidationError

from services.contracts.assessments import AssessmentScored
from services.contracts.envelope import Event
from services.contracts.streams import ASSESSMENTS, StreamSpec
from services.runtime.db import Pool
from services.runtime.stream_replay import stream_messages

from . import fact_rows as rows_of
from .consumers import IssuesStreamEvent
from .domain.issues import IssueFact
from .domain.scores import AssessmentScore
from .domain.units import UnitFact
from .projection import FACT_TABLES

BATCH = 2000
_issues_stream: TypeAdapter[Event] = TypeAdapter(IssuesStreamEvent)
_assessments_stream: TypeAdapter[Event] = TypeAdapter(AssessmentScored)


def _parse(spec: StreamSpec, data: bytes) -> Event | None:
    adapter = _assessments_stream if spec.name == ASSESSMENTS.name else _issues_stream
    try:
        return adapter.validate_json(data)
    except ValidationError:
        return None  # dead-lettered as invalid by the live consumer: handled, nothing applied


async def replay_stream(js: JetStreamContext, pool: Pool, spec: StreamSpec) -> int:
    """Apply every message of ``spec`` to the projection; returns how many were read."""
    count = 0
    rows: dict[str, list[rows_of.Row]] = {}
    last = 0
    async for seq, data in stream_messages(js, spec):
        event = _parse(spec, data)
        if event is not None and (table := FACT_TABLES[type(event)]):
            rows.setdefault(table.insert, []).append(table.row(event, seq))
        count, last = count + 1, seq
        if count % BATCH == 0:
            await _write(pool, spec.name, rows, last)
            rows = {}
    if count:
        await _write(pool, spec.name, rows, last)
    return count


async def _write(pool: Pool, stream: str, rows: dict[str, list[rows_of.Row]], last: int) -> None:
    async with pool.connection() as conn, conn.transaction():
        for statement, values in rows.items():
            await rows_of.insert_rows(conn, statement, values)
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
        units=[(r["stream_seq"], rows_of.unit_fact(r)) for r in rows["unit_facts"]],
        issues=[(r["stream_seq"], rows_of.issue_fact(r)) for r in rows["issue_facts"]],
        scores=[(r["stream_seq"], rows_of.score_fact(r)) for r in rows["score_facts"]],
    )


def decode(data: bytes) -> dict[str, Any]:
    """A stored edition message as a dict."""
    result: dict[str, Any] = json.loads(data)
    return result
