"""Ranking's facts as rows: the stored shape of each event it records (R7: every fact keeps its
stream position), the bulk INSERT they go in with, and the way back to domain values."""

from __future__ import annotations

from collections.abc import Sequence
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


def bulk_insert(table: str, columns: str, types: str, conflict: str) -> str:
    """One INSERT for many rows: a column of values per array (``unnest``), sent in binary.
    Much cheaper than a statement per row, even pipelined (about 3x; binary arrays about 3x
    cheaper to send than text ones)."""
    arrays = ", ".join(f"%b::{t}[]" for t in types.split())
    return f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {conflict}"


UNIT_FACT_SQL = bulk_insert(
    "unit_facts",
    "event_id, unit_id, kind, occurred_at, aggregate_version, name, category, parent_id,"
    " active, stream_seq",
    "uuid text text timestamptz int text text text boolean bigint",
    "ON CONFLICT (event_id) DO NOTHING",
)
ISSUE_FACT_SQL = bulk_insert(
    "issue_facts",
    "event_id, issue_id, kind, occurred_at, aggregate_version, unit_id, reported_at,"
    " deadline, stream_seq",
    "uuid uuid text timestamptz int text timestamptz timestamptz bigint",
    "ON CONFLICT (event_id) DO NOTHING",
)
SCORE_FACT_SQL = bulk_insert(
    "score_facts",
    "event_id, unit_id, month, score, occurred_at, stream_seq",
    "uuid text text text timestamptz bigint",
    "ON CONFLICT (event_id) DO NOTHING",
)
Row = tuple[object, ...]


async def insert_rows(conn: Conn, statement: str, rows: Sequence[Row]) -> None:
    """Run a `bulk_insert` statement for ``rows``."""
    if rows:
        await conn.execute(statement, [list(column) for column in zip(*rows, strict=True)])


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


# Subject fact -> the ranking domain's issue kind.
_ISSUE_KINDS = {"deadline_extended": "extended"}


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


def score_fact_row(event: Event, seq: int) -> Row:
    """R4.2: a monthly on-site assessment score, kept with the time it was recorded."""
    assert isinstance(event, AssessmentScored)
    return (event.event_id, event.unit_id, event.month, event.score, event.occurred_at, seq)


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
