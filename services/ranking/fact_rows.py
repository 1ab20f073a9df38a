"""Ranking's facts as rows: the stored shape of each event it records (R7: every fact keeps its
stream position), the bulk INSERT they go in with, and the way back to domain values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from typing import Any

import orjson

from services.contracts import issues as iw
from services.contracts import units as uw
from services.contracts.assessments import AssessmentScored
from services.contracts.envelope import Event
from services.runtime.db import Conn

from .domain.issues import IssueFact, IssueKind
from .domain.scores import AssessmentScore
from .domain.units import Category, UnitEventKind, UnitFact


def bulk_insert(table: str, columns: str, types: str, conflict: str) -> str:
    """One INSERT for many rows, sent as one JSON array of rows that PostgreSQL takes apart
    (``jsonb_array_elements``, each value cast to its column's type).

    The consumer's process, not the database, is what limits how fast ranking applies events
    (one core busy, PostgreSQL mostly idle): orjson writes a batch's rows in microseconds, where
    psycopg dumped the ``unnest`` arrays this replaced value by value in Python (~10 µs per
    event). orjson writes UUIDs, aware datetimes (RFC 3339 with their offset), ints, bools,
    None and strings, which the casts read back exactly (tests/integration/ranking)."""
    values = ", ".join(f"(r->>{i})::{t}" for i, t in enumerate(types.split()))
    return (
        f"INSERT INTO {table} ({columns}) SELECT {values}"
        f" FROM jsonb_array_elements(%s::jsonb) AS r {conflict}"
    )


def _json_rows(rows: Sequence[Row]) -> str:
    return orjson.dumps(rows).decode()


UNIT_FACT_SQL = bulk_insert(
    "unit_facts",
    "event_id, unit_id, kind, occurred_at, aggregate_version, name, category, parent_id,"
    " active, stream_seq",
    "uuid text text timestamptz int text text text boolean bigint",
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
)
_ISSUE_FACT_COLUMNS = (
    "event_id, issue_id, kind, occurred_at, aggregate_version, unit_id, reported_at,"
    " deadline, stream_seq"
)
_ISSUE_FACT_TYPES = "uuid uuid text timestamptz int text timestamptz timestamptz bigint"
ISSUE_FACT_SQL = bulk_insert(
    "issue_facts",
    _ISSUE_FACT_COLUMNS,
    _ISSUE_FACT_TYPES,
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
)
# A batch's issue facts, recorded once each, and the facts stored before them of the issues they
# add to, in one statement (one round trip fewer per batch: on a busy machine each one waits for
# a CPU). The SELECT does not see the rows its own WITH inserts (PostgreSQL runs the two on one
# snapshot), so what it reads of ``issue_facts`` is exactly the earlier facts. The new ids come
# back as rows with ``new`` true and only ``event_id`` set.
ISSUE_FACTS_AND_EARLIER_SQL = f"""
WITH new AS ({
    bulk_insert(
        "issue_facts",
        _ISSUE_FACT_COLUMNS,
        _ISSUE_FACT_TYPES,
        "ON CONFLICT (event_id) DO NOTHING RETURNING event_id, issue_id",
    )
})
SELECT false AS new, {_ISSUE_FACT_COLUMNS}
FROM issue_facts WHERE issue_id IN (SELECT issue_id FROM new)
UNION ALL
SELECT true, event_id{", NULL" * (len(_ISSUE_FACT_COLUMNS.split(",")) - 1)} FROM new
"""
SCORE_FACT_SQL = bulk_insert(
    "score_facts",
    "event_id, unit_id, month, score, occurred_at, stream_seq",
    "uuid text text text timestamptz bigint",
    "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
)
Row = tuple[object, ...]


async def insert_rows(conn: Conn, statement: str, rows: Sequence[Row]) -> None:
    """Run a `bulk_insert` statement for ``rows``."""
    if rows:
        await conn.execute(statement, (_json_rows(rows),))


async def insert_issue_facts(
    conn: Conn, rows: Sequence[Row]
) -> tuple[set[Any], list[dict[str, Any]]]:
    """`insert_new` for issue facts (`ISSUE_FACTS_AND_EARLIER_SQL`): the event ids not recorded
    before, and the rows of the facts stored before them of the issues those add to."""
    if not rows:
        return set(), []
    cur = await conn.execute(ISSUE_FACTS_AND_EARLIER_SQL, (_json_rows(rows),))
    new: set[Any] = set()
    earlier: list[dict[str, Any]] = []
    for row in await cur.fetchall():
        if row["new"]:
            new.add(row["event_id"])
        else:
            earlier.append(row)
    return new, earlier


async def insert_new(conn: Conn, statement: str, rows: Sequence[Row]) -> set[Any]:
    """Run a fact table's `bulk_insert` (``ON CONFLICT DO NOTHING RETURNING event_id``) for
    ``rows``: the event ids that were not recorded before (a fact's row is the record that its
    event was applied, so a redelivery inserts nothing)."""
    if not rows:
        return set()
    cur = await conn.execute(statement, (_json_rows(rows),))
    return {row["event_id"] for row in await cur.fetchall()}


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
    kind, unit_id, reported_at, deadline = _issue_parts(event)
    return (
        event.event_id,
        getattr(event, "issue_id"),  # noqa: B009 - every issue event has one
        kind,
        event.occurred_at,
        event.aggregate_version,
        unit_id,
        reported_at,
        deadline,
        seq,
    )


def issue_fact_of(event: Event) -> IssueFact:
    """The domain fact of an issue event, as `issue_fact` reads its row back: a batch's own
    facts are folded without reading them back."""
    kind, unit_id, reported_at, deadline = _issue_parts(event)
    return IssueFact(
        issue_id=str(getattr(event, "issue_id")),  # noqa: B009 - every issue event has one
        kind=_ISSUE_KIND_OF.get(kind, kind),
        occurred_at=event.occurred_at,
        aggregate_version=event.aggregate_version,
        unit_id=unit_id,
        reported_at=reported_at,
        deadline=deadline,
    )


def _issue_parts(event: Event) -> tuple[str, str | None, datetime | None, datetime | None]:
    fact = event.SUBJECT.rsplit(".", 1)[1]
    reported = event if isinstance(event, iw.IssueReported) else None
    deadline = event.deadline if isinstance(event, iw.IssueReported | iw.DeadlineExtended) else None
    unit_id = getattr(event, "unit_id", None)
    return (
        _ISSUE_KINDS.get(fact, fact),
        unit_id,
        reported.reported_at if reported else None,
        deadline,
    )


def score_fact_row(event: Event, seq: int) -> Row:
    """R4.2: a monthly on-site assessment score, kept with the time it was recorded."""
    assert isinstance(event, AssessmentScored)
    return (event.event_id, event.unit_id, event.month, event.score, event.occurred_at, seq)


# Stored text -> enum member by a dict lookup (an Enum call costs more than the rest of a fact,
# ten thousand times per edition); an unknown value is passed on for the fact to refuse.
_UNIT_KINDS: dict[Any, Any] = {kind.value: kind for kind in UnitEventKind}
_CATEGORIES: dict[Any, Any] = {category.value: category for category in Category}
_ISSUE_KIND_OF: dict[Any, Any] = {kind.value: kind for kind in IssueKind}


def unit_fact(row: dict[str, Any]) -> UnitFact:
    return UnitFact(
        unit_id=row["unit_id"],
        kind=_UNIT_KINDS.get(row["kind"], row["kind"]),
        occurred_at=row["occurred_at"],
        aggregate_version=row["aggregate_version"],
        name=row["name"],
        category=_CATEGORIES.get(row["category"], row["category"]),
        parent_id=row["parent_id"],
        active=row["active"],
    )


def issue_fact(row: dict[str, Any]) -> IssueFact:
    return IssueFact(
        issue_id=str(row["issue_id"]),
        kind=_ISSUE_KIND_OF.get(row["kind"], row["kind"]),
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
