"""Ranking's projection: facts from ``units.v1.*``, ``issues.v1.*`` and ``assessments.v1.*``.

Facts are stored, not folded, so that any edition can be computed as of its cutoff from exactly
the facts up to its input positions (R3, R4.2, R7). A redelivered event is recognised by its id.

Beside the facts, each issue's summary (its state after every fact so far and when it last
changed, `domain.issues.IssueSummary`) is kept up to date in the same transaction, and each
unit's tallies over its summaries by the database (migration 0006). An edition counts the issues
that did not change after its cutoff (and whose facts are all within its input positions) from
the tallies, less the summaries its cutoff leaves out, and folds the facts of the few others: a
million issues are counted in milliseconds instead of folding millions of facts, with the same
result (tests/integration/ranking/test_issue_summaries.py, test_unit_tallies.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.contracts import issues as iw
from services.contracts import units as uw
from services.contracts.assessments import AssessmentScored
from services.contracts.envelope import Event
from services.runtime.db import Conn, Pool

from .domain.issues import IssueFact, issue_summary
from .fact_rows import (
    ISSUE_FACT_SQL,
    SCORE_FACT_SQL,
    UNIT_FACT_SQL,
    Row,
    bulk_insert,
    insert_issue_facts,
    insert_new,
    insert_rows,
    issue_fact,
    issue_fact_of,
    issue_fact_row,
    score_fact_row,
    unit_fact_row,
)

log = logging.getLogger(__name__)


async def input_positions(conn: Conn) -> dict[str, int]:
    cur = await conn.execute("SELECT stream, watermark FROM input_positions ORDER BY stream")
    return {row["stream"]: int(row["watermark"]) for row in await cur.fetchall()}


# -- writing: one transaction per batch of deliveries -----------------------------------------

CONSUMER = "ranking"


@dataclass(frozen=True)
class FactTable:
    """Where facts of one event type are stored, and how."""

    insert: str
    row: Callable[[Event, int], Row]


_UNITS = FactTable(UNIT_FACT_SQL, unit_fact_row)
_ISSUES = FactTable(ISSUE_FACT_SQL, issue_fact_row)
_SCORES = FactTable(SCORE_FACT_SQL, score_fact_row)

# Every event type ranking consumes -> its table; None: handled, nothing to record.
FACT_TABLES: dict[type[Event], FactTable | None] = {
    uw.UnitRegistered: _UNITS,
    uw.UnitUpdated: _UNITS,
    uw.UnitDeactivated: _UNITS,
    uw.UnitReactivated: _UNITS,
    iw.IssueReported: _ISSUES,
    iw.IssueRectified: _ISSUES,
    iw.IssueVerified: _ISSUES,
    iw.IssueReopened: _ISSUES,
    iw.IssueVoided: _ISSUES,
    iw.IssueOverdue: _ISSUES,
    iw.IssueTransferred: _ISSUES,
    iw.DeadlineExtended: _ISSUES,
    # Requests and refusals change no number (R2.6).
    iw.ExtensionRequested: None,
    iw.ExtensionRefused: None,
    AssessmentScored: _SCORES,
}


@dataclass(frozen=True)
class Delivery:
    """One message of an input stream, decoded: the event and its stream position (R7)."""

    event: Event
    stream: str
    seq: int


async def apply_deliveries(conn: Conn, deliveries: Sequence[Delivery]) -> None:
    """Record the facts of ``deliveries`` once each (by event id), refresh the summaries of the
    issues they touch, and count every position as handled (R7), all in the open transaction.

    A fact's row is the record that its event was applied: its table's primary key is the event
    id, so a redelivered event inserts nothing and changes no summary (events ranking records
    nothing for, R2.6 requests and refusals, change nothing either way). The input position
    rows are locked first: batches of one stream (from replicas too) are applied one after
    another, so an issue's summary is always folded from all of its facts committed so far plus
    the batch's own (never two batches racing on one issue).

    A batch of issue events takes two round trips in psycopg's pipeline mode (each a wait
    for a CPU on a busy machine): BEGIN, the locks and the issue facts' INSERT, which reads
    back the earlier facts of their issues in the same statement, go together; the summaries
    and the positions' moves go with COMMIT, since nothing reads their results. Unit and
    score facts add one each."""
    streams = sorted({d.stream for d in deliveries})
    for stream in streams:
        await lock_position(conn, stream)
    first: dict[FactTable, dict[UUID, Delivery]] = {}
    for d in deliveries:
        table = FACT_TABLES[type(d.event)]
        if table is not None:  # a repeat inside the batch counts once (its first delivery)
            first.setdefault(table, {}).setdefault(d.event.event_id, d)
    fresh: set[UUID] = set()
    earlier: list[dict[str, Any]] = []
    for table, by_id in first.items():
        rows = [table.row(d.event, d.seq) for d in by_id.values()]
        if table is _ISSUES:
            new, earlier = await insert_issue_facts(conn, rows)
            fresh |= new
        else:
            fresh |= await insert_new(conn, table.insert, rows)
    new_issue_facts = [
        (issue_fact_of(d.event), d.seq)
        for event_id, d in first.get(_ISSUES, {}).items()
        if event_id in fresh
    ]
    await refresh_summaries(conn, new_issue_facts, earlier)
    for stream in streams:
        await advance_position(conn, stream, [d.seq for d in deliveries if d.stream == stream])


async def lock_position(conn: Conn, stream: str) -> None:
    """Lock ``stream``'s input position row for this transaction, made at 0 if missing.

    Nothing is read back (`advance_position` reads the watermark in its own statement), so in
    pipeline mode the lock goes out with the next statement. An upsert rather than ``SELECT ...
    FOR UPDATE``, so that a stream's first batch needs no second statement: ``DO UPDATE ...
    WHERE false`` locks the existing row (waiting for a replica's batch, as ``FOR UPDATE``
    does) and writes nothing (PostgreSQL locks every conflicting row whether or not its WHERE
    lets the update through)."""
    await conn.execute(
        "INSERT INTO input_positions (stream, watermark) VALUES (%s, 0)"
        " ON CONFLICT (stream) DO UPDATE SET watermark = input_positions.watermark WHERE false",
        (stream,),
    )


# R7 input positions in one statement, its result unread (in pipeline mode it goes with COMMIT):
# the handled sequences above the watermark (the batch's and those waiting in ``applied_seqs``)
# are numbered in order; those that run on without a gap from the watermark are the ones whose
# number is their distance from it (``seq - row_number() = watermark``). The watermark moves to
# the last of them, the waiting ones it passes are deleted, and the batch's sequences still
# above it wait. ``applied_seqs`` never holds the watermark's successor: every statement
# moves the watermark over it. The caller holds the position's row lock (`lock_position`),
# which also makes the row: without it the statement would change nothing.
_ADVANCE_SQL = """
WITH position AS (
    SELECT watermark FROM input_positions WHERE stream = %(stream)s
), handled AS (
    SELECT seq FROM position, unnest(%(seqs)s::bigint[]) AS seq WHERE seq > watermark
    UNION
    SELECT a.seq FROM position, applied_seqs a WHERE a.stream = %(stream)s AND a.seq > watermark
), reached AS (
    SELECT coalesce(max(run.seq), min(position.watermark)) AS watermark
    FROM position LEFT JOIN (
        SELECT seq, seq - row_number() OVER (ORDER BY seq) AS base FROM handled
    ) AS run ON run.base = position.watermark
), moved AS (
    UPDATE input_positions SET watermark = reached.watermark FROM reached
    WHERE stream = %(stream)s AND input_positions.watermark < reached.watermark
), passed AS (
    DELETE FROM applied_seqs USING reached
    WHERE applied_seqs.stream = %(stream)s AND applied_seqs.seq <= reached.watermark
)
INSERT INTO applied_seqs (stream, seq)
SELECT %(stream)s, seq FROM reached, unnest(%(seqs)s::bigint[]) AS seq
WHERE seq > reached.watermark
ON CONFLICT DO NOTHING
"""


async def advance_position(conn: Conn, stream: str, seqs: Sequence[int]) -> None:
    """Count ``seqs`` as handled and move the stream's watermark over every contiguous handled
    sequence (R7 input positions); handled sequences above a gap wait in ``applied_seqs``.
    The caller holds the row lock (`lock_position`)."""
    if seqs:
        await conn.execute(_ADVANCE_SQL, {"stream": stream, "seqs": sorted(set(seqs))})


async def mark_handled(conn: Conn, stream: str, seq: int) -> None:
    """Count one position as handled (e.g. a message dead-lettered as invalid, R7)."""
    await lock_position(conn, stream)
    await advance_position(conn, stream, [seq])


# -- issue summaries ---------------------------------------------------------------------------

_SUMMARY_SQL = bulk_insert(
    "issue_summaries",
    "issue_id, unit_id, reported_at, deadline, state, rework_count, first_rectified_at,"
    " on_time, changed_until, last_seq",
    "uuid text timestamptz timestamptz text int timestamptz boolean timestamptz bigint",
    "ON CONFLICT (issue_id) DO UPDATE SET unit_id = EXCLUDED.unit_id,"
    " reported_at = EXCLUDED.reported_at, deadline = EXCLUDED.deadline,"
    " state = EXCLUDED.state, rework_count = EXCLUDED.rework_count,"
    " first_rectified_at = EXCLUDED.first_rectified_at, on_time = EXCLUDED.on_time,"
    " changed_until = EXCLUDED.changed_until, last_seq = EXCLUDED.last_seq",
)


def summary_row(issue_id: UUID, facts: list[IssueFact], last_seq: int) -> Row | None:
    """The ``issue_summaries`` row of one issue's facts; None before its report. Facts that do
    not fold (R2 broken upstream) get a row without a state: every edition folds them again
    and reports the error, as it would without summaries."""
    try:
        summary = issue_summary(facts)
    except ValueError:
        return (issue_id, None, None, None, None, None, None, None, None, last_seq)
    if summary is None:
        return None
    f = summary.final
    return (
        issue_id,
        f.unit_id,
        f.reported_at,
        f.deadline,
        f.state.value,
        f.rework_count,
        f.first_rectified_at,
        f.on_time,
        summary.changed_until,
        last_seq,
    )


async def refresh_summaries(
    conn: Conn, new_facts: Sequence[tuple[IssueFact, int]], earlier: Sequence[dict[str, Any]]
) -> None:
    """Fold again the summaries of the issues with ``new_facts`` (each with its stream
    sequence) from the rows of their ``earlier`` facts and the new ones as they are (the whole
    fold, so any arrival order gives the same summary)."""
    if not new_facts:
        return
    facts: dict[UUID, list[IssueFact]] = {}
    last: dict[UUID, int] = {}
    for fact, seq in new_facts:
        issue_id = UUID(fact.issue_id)
        facts.setdefault(issue_id, []).append(fact)
        last[issue_id] = max(last.get(issue_id, 0), seq)
    for r in earlier:
        facts[r["issue_id"]].append(issue_fact(r))
        last[r["issue_id"]] = max(last[r["issue_id"]], int(r["stream_seq"]))
    await _write_summaries(conn, facts, last)


async def _write_summaries(
    conn: Conn, facts: dict[UUID, list[IssueFact]], last: dict[UUID, int]
) -> int:
    rows = [
        row
        for issue_id in sorted(facts, key=_uuid_order)  # one order of row locks
        if (row := summary_row(issue_id, facts[issue_id], last[issue_id])) is not None
    ]
    await insert_rows(conn, _SUMMARY_SQL, rows)
    return len(rows)


def _facts_of_rows(
    fact_rows: Sequence[dict[str, Any]],
) -> tuple[dict[UUID, list[IssueFact]], dict[UUID, int]]:
    facts: dict[UUID, list[IssueFact]] = {}
    last: dict[UUID, int] = {}
    for r in fact_rows:
        facts.setdefault(r["issue_id"], []).append(issue_fact(r))
        last[r["issue_id"]] = max(last.get(r["issue_id"], 0), int(r["stream_seq"]))
    return facts, last


SUMMARY_CHUNK = 20_000


def _uuid_order(issue_id: UUID) -> int:
    """PostgreSQL's order of uuids (their 128 bits), compared as ints: `UUID.__lt__` is Python
    code, and a batch sorts thousands of them."""
    return issue_id.int


async def summarise_all(pool: Pool) -> int:
    """Fold every issue's summary from its facts (after a rebuild's replay, or once after the
    migration that added summaries to a projection holding facts); returns how many."""
    written, after = 0, UUID(int=0)
    while True:
        async with pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT DISTINCT issue_id FROM issue_facts WHERE issue_id > %s"
                " ORDER BY issue_id LIMIT %s",
                (after, SUMMARY_CHUNK),
            )
            ids = [r["issue_id"] for r in await cur.fetchall()]
            if not ids:
                return written
            cur = await conn.execute("SELECT * FROM issue_facts WHERE issue_id = ANY(%b)", (ids,))
            written += await _write_summaries(conn, *_facts_of_rows(await cur.fetchall()))
            after = ids[-1]


async def summarise_if_pending(pool: Pool) -> None:
    """At start: build the summaries once if the projection predates them."""
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT pending FROM issue_summaries_backfill")
        row = await cur.fetchone()
    if row is None or not row["pending"]:
        return
    count = await summarise_all(pool)
    async with pool.connection() as conn:
        await conn.execute("UPDATE issue_summaries_backfill SET pending = false")
    log.info("issue summaries built from the stored facts", extra={"issues": count})
