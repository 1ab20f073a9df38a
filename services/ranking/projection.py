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
from collections.abc import Callable, Collection, Sequence
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
    the batch's own (never two batches racing on one issue)."""
    streams = sorted({d.stream for d in deliveries})
    watermarks = {stream: await lock_position(conn, stream) for stream in streams}
    first: dict[FactTable, dict[UUID, Delivery]] = {}
    for d in deliveries:
        table = FACT_TABLES[type(d.event)]
        if table is not None:  # a repeat inside the batch counts once (its first delivery)
            first.setdefault(table, {}).setdefault(d.event.event_id, d)
    fresh: set[UUID] = set()
    for table, by_id in first.items():
        rows = [table.row(d.event, d.seq) for d in by_id.values()]
        fresh |= await insert_new(conn, table.insert, rows)
    new_issue_facts = [
        (issue_fact_of(d.event), d.seq)
        for event_id, d in first.get(_ISSUES, {}).items()
        if event_id in fresh
    ]
    await refresh_summaries(conn, new_issue_facts, fresh)
    for stream in streams:
        seqs = [d.seq for d in deliveries if d.stream == stream]
        await advance_position(conn, stream, watermarks[stream], seqs)


async def lock_position(conn: Conn, stream: str) -> int:
    """Lock ``stream``'s input position row for this transaction; returns its watermark."""
    locked = "SELECT watermark FROM input_positions WHERE stream = %s FOR UPDATE"
    row = await (await conn.execute(locked, (stream,))).fetchone()
    if row is None:
        await conn.execute(
            "INSERT INTO input_positions (stream, watermark) VALUES (%s, 0) ON CONFLICT DO NOTHING",
            (stream,),
        )
        row = await (await conn.execute(locked, (stream,))).fetchone()
        assert row is not None
    return int(row["watermark"])


async def advance_position(conn: Conn, stream: str, watermark: int, seqs: Sequence[int]) -> None:
    """Count ``seqs`` as handled and move the stream's watermark over every contiguous handled
    sequence (R7 input positions); handled sequences above a gap wait in ``applied_seqs``.
    The caller holds the row lock (`lock_position`)."""
    above = {seq for seq in seqs if seq > watermark}
    if not above:
        return
    if watermark + 1 not in above:  # the gap below is still open
        await conn.execute(
            "INSERT INTO applied_seqs (stream, seq) SELECT %s, unnest(%b::bigint[])"
            " ON CONFLICT DO NOTHING",
            (stream, sorted(above)),
        )
        return
    cur = await conn.execute(
        "SELECT seq FROM applied_seqs WHERE stream = %s AND seq > %s", (stream, watermark)
    )
    waiting = {int(r["seq"]) for r in await cur.fetchall()}
    handled = above | waiting
    while watermark + 1 in handled:
        watermark += 1
    await conn.execute(
        "UPDATE input_positions SET watermark = %s WHERE stream = %s", (watermark, stream)
    )
    if waiting:
        await conn.execute(
            "DELETE FROM applied_seqs WHERE stream = %s AND seq <= %s", (stream, watermark)
        )
    still_waiting = sorted(seq for seq in above if seq > watermark)
    if still_waiting:
        await conn.execute(
            "INSERT INTO applied_seqs (stream, seq) SELECT %s, unnest(%b::bigint[])"
            " ON CONFLICT DO NOTHING",
            (stream, still_waiting),
        )


async def mark_handled(conn: Conn, stream: str, seq: int) -> None:
    """Count one position as handled (e.g. a message dead-lettered as invalid, R7)."""
    await advance_position(conn, stream, await lock_position(conn, stream), [seq])


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
    conn: Conn, new_facts: Sequence[tuple[IssueFact, int]], new_ids: Collection[UUID]
) -> None:
    """Fold again the summaries of the issues with ``new_facts`` (each with its stream
    sequence; ``new_ids`` their event ids): their earlier facts are read back, the new ones are
    folded as they are (the whole fold, so any arrival order gives the same summary)."""
    if not new_facts:
        return
    facts: dict[UUID, list[IssueFact]] = {}
    last: dict[UUID, int] = {}
    for fact, seq in new_facts:
        issue_id = UUID(fact.issue_id)
        facts.setdefault(issue_id, []).append(fact)
        last[issue_id] = max(last.get(issue_id, 0), seq)
    cur = await conn.execute(
        "SELECT * FROM issue_facts WHERE issue_id = ANY(%b) AND NOT event_id = ANY(%b)",
        (list(facts), list(new_ids)),
    )
    for r in await cur.fetchall():
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
