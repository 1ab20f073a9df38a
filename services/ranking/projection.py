"""Ranking's projection: facts from ``units.v1.*``, ``issues.v1.*`` and ``assessments.v1.*``.

Facts are stored, not folded, so that any edition can be computed as of its cutoff from exactly
the facts up to its input positions (R3, R4.2, R7). A redelivered event is recognised by its id.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from services.contracts import issues as iw
from services.contracts import units as uw
from services.contracts.assessments import AssessmentScored
from services.contracts.envelope import Event
from services.runtime.db import Conn

from .domain.issues import IssueFact
from .domain.scores import AssessmentScore
from .domain.units import UnitFact

UNIT_FACT_SQL = (
    "INSERT INTO unit_facts (event_id, unit_id, kind, occurred_at, aggregate_version, name,"
    " category, parent_id, active, stream_seq) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
    " ON CONFLICT (event_id) DO NOTHING"
)
ISSUE_FACT_SQL = (
    "INSERT INTO issue_facts (event_id, issue_id, kind, occurred_at, aggregate_version,"
    " unit_id, reported_at, deadline, stream_seq) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)"
    " ON CONFLICT (event_id) DO NOTHING"
)
SCORE_FACT_SQL = (
    "INSERT INTO score_facts (event_id, unit_id, month, score, occurred_at, stream_seq)"
    " VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (event_id) DO NOTHING"
)
Row = tuple[object, ...]


def unit_fact_row(event: Event, seq: int) -> Row:
    """R1.2-R1.3: a directory change, as the snapshot the event carries."""
    kind = event.SUBJECT.rsplit(".", 1)[1]
    snapshot = event if isinstance(event, uw.UnitRegistered | uw.UnitUpdated) else None
    return (
        event.event_id,
        getattr(event, "unit_id"),  # noqa: B009 - every unit event has one
        kind,
        event.occurred_at,
        event.aggregate_version,
        snapshot.name if snapshot else None,
        snapshot.category if snapshot else None,
        snapshot.parent_id if snapshot else None,
        snapshot.active if snapshot else None,
        seq,
    )


async def record_unit_fact(conn: Conn, event: Event, seq: int) -> None:
    """R1.2-R1.3: store a directory change."""
    await conn.execute(UNIT_FACT_SQL, unit_fact_row(event, seq))


# Subject fact -> the ranking domain's issue kind.
_ISSUE_KINDS = {"deadline_extended": "extended"}


async def ignore_fact(conn: Conn, event: Event, seq: int) -> None:
    """A fact that changes no number ranking computes (e.g. an extension request, R2.6)."""


def issue_fact_row(event: Event, seq: int) -> Row:
    """R2-R3, R2.6: one step of an issue's life. The report carries its unit, time and
    deadline; a transfer its new unit; an approved extension its new deadline."""
    fact = event.SUBJECT.rsplit(".", 1)[1]
    reported = event if isinstance(event, iw.IssueReported) else None
    deadline = event.deadline if isinstance(event, iw.IssueReported | iw.DeadlineExtended) else None
    return (
        event.event_id,
        getattr(event, "issue_id"),  # noqa: B009 - every issue event has one
        _ISSUE_KINDS.get(fact, fact),
        event.occurred_at,
        event.aggregate_version,
        getattr(event, "unit_id", None),
        reported.reported_at if reported else None,
        deadline,
        seq,
    )


async def record_issue_fact(conn: Conn, event: Event, seq: int) -> None:
    """R2-R3: store one step of an issue's life."""
    await conn.execute(ISSUE_FACT_SQL, issue_fact_row(event, seq))


def score_fact_row(event: Event, seq: int) -> Row:
    """R4.2: a monthly on-site assessment score, kept with the time it was recorded."""
    assert isinstance(event, AssessmentScored)
    return (event.event_id, event.unit_id, event.month, event.score, event.occurred_at, seq)


async def record_score(conn: Conn, event: Event, seq: int) -> None:
    """R4.2: store a score."""
    await conn.execute(SCORE_FACT_SQL, score_fact_row(event, seq))


async def mark_handled(conn: Conn, stream: str, seq: int) -> None:
    """Count ``seq`` as handled and move the stream's watermark over every contiguous handled
    sequence (R7 input positions). Serialised per stream by the row lock."""
    await conn.execute(
        "INSERT INTO input_positions (stream, watermark) VALUES (%s, 0) ON CONFLICT DO NOTHING",
        (stream,),
    )
    cur = await conn.execute(
        "SELECT watermark FROM input_positions WHERE stream = %s FOR UPDATE", (stream,)
    )
    row = await cur.fetchone()
    assert row is not None
    watermark = int(row["watermark"])
    if seq <= watermark:
        return
    if seq != watermark + 1:
        await conn.execute(
            "INSERT INTO applied_seqs (stream, seq) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (stream, seq),
        )
        return
    watermark = seq
    cur = await conn.execute(
        "SELECT seq FROM applied_seqs WHERE stream = %s AND seq > %s ORDER BY seq",
        (stream, watermark),
    )
    for pending in await cur.fetchall():
        if pending["seq"] != watermark + 1:
            break
        watermark = pending["seq"]
    await conn.execute(
        "DELETE FROM applied_seqs WHERE stream = %s AND seq <= %s", (stream, watermark)
    )
    await conn.execute(
        "UPDATE input_positions SET watermark = %s WHERE stream = %s", (watermark, stream)
    )


async def input_positions(conn: Conn) -> dict[str, int]:
    cur = await conn.execute("SELECT stream, watermark FROM input_positions ORDER BY stream")
    return {row["stream"]: int(row["watermark"]) for row in await cur.fetchall()}


async def load_facts(
    conn: Conn, positions: dict[str, int]
) -> tuple[list[UnitFact], list[IssueFact], list[AssessmentScore]]:
    """The facts at or below the input positions, as domain values."""
    issues_pos = positions.get("ISSUES", 0)
    scores_pos = positions.get("ASSESSMENTS", 0)
    cur = await conn.execute("SELECT * FROM unit_facts WHERE stream_seq <= %s", (issues_pos,))
    units = [unit_fact(r) for r in await cur.fetchall()]
    cur = await conn.execute("SELECT * FROM issue_facts WHERE stream_seq <= %s", (issues_pos,))
    issues = [issue_fact(r) for r in await cur.fetchall()]
    cur = await conn.execute("SELECT * FROM score_facts WHERE stream_seq <= %s", (scores_pos,))
    scores = [score_fact(r) for r in await cur.fetchall()]
    return units, issues, scores


def unit_fact(row: dict[str, Any]) -> UnitFact:
    return UnitFact(
        unit_id=row["unit_id"],
        kind=row["kind"],
        occurred_at=row["occurred_at"],
        aggregate_version=row["aggregate_version"],
        name=row["name"],
        category=row["category"],
        parent_id=row["parent_id"],
        active=row["active"],
    )


def issue_fact(row: dict[str, Any]) -> IssueFact:
    return IssueFact(
        issue_id=str(row["issue_id"]),
        kind=row["kind"],
        occurred_at=row["occurred_at"],
        aggregate_version=row["aggregate_version"],
        unit_id=row["unit_id"],
        reported_at=row["reported_at"],
        deadline=row["deadline"],
    )


def score_fact(row: dict[str, Any]) -> AssessmentScore:
    year, month = (int(part) for part in row["month"].split("-"))
    return AssessmentScore(
        event_id=str(row["event_id"]),
        unit_id=row["unit_id"],
        month=(year, month),
        score=Fraction(row["score"]),
        occurred_at=row["occurred_at"],
    )
