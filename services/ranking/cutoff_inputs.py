"""What an edition or a rate report reads from ranking's projection at a cutoff (R3, R4.2,
R7): every unit's counts (from the units' tallies, less what the cutoff leaves out, and the
facts of the few issues that must be folded) and the unit directory and scores, each up to the
input positions. The projection itself is written by `projection`. (Migration 0006 calls
`rates_at` by its earlier place, ``projection.rates_at``: an applied migration is never edited,
its checksum would stop every database that ran it.)"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.runtime.db import Conn

from .domain.issues import IssueFact, issues_as_of
from .domain.rates import RateCounts, UnitRate, merge_rates
from .domain.scores import AssessmentScore
from .domain.units import UnitFact
from .fact_rows import issue_fact, score_fact, unit_fact

# One statement, so one snapshot. The issues whose summary decides their state at T are counted
# per unit: each unit's tallies over every counted summary (migration 0006, kept by triggers),
# less the summaries reported or changed after T or with facts beyond the input position (found
# through indexes), and, for overdue (R3.2), less the open issues whose deadline has not passed
# at T. The ids of the issues whose facts must be folded instead (changed after T, facts beyond
# the input position, or facts that do not fold) come back beside them (``refold``). In two
# statements a batch committed in between could move an issue from the first set to the second:
# counted twice. Equal to summing the summaries that decide their state at T directly
# (tests/integration/ranking/test_issue_summaries.py), at a fraction of the cost.
_COUNTS_SQL = """
WITH left_out AS (
    SELECT unit_id, state, rework_count, on_time
    FROM issue_summaries
    WHERE state IS NOT NULL AND state <> 'void'
      AND (GREATEST(reported_at, changed_until) > %(t)s OR last_seq > %(p)s)
), not_yet_due AS (
    SELECT unit_id
    FROM issue_summaries
    WHERE state IN ('open', 'reopened') AND (deadline >= %(t)s OR deadline IS NULL)
      AND GREATEST(reported_at, changed_until) <= %(t)s AND last_seq <= %(p)s
), parts AS (
    SELECT unit_id, reported, rectified, open AS overdue, rework, on_time FROM unit_tallies
    UNION ALL
    SELECT unit_id, -c.n, -c.rectified, -c.open, -c.rework, -c.on_time
    FROM left_out, summary_tally(1, state, rework_count, on_time) c
    UNION ALL
    SELECT unit_id, 0, 0, -1, 0, 0 FROM not_yet_due
)
SELECT unit_id, sum(reported) AS reported, sum(rectified) AS rectified,
       sum(overdue) AS overdue, sum(rework) AS rework, sum(on_time) AS on_time,
       NULL::uuid AS refold
FROM parts
GROUP BY unit_id
HAVING sum(reported) > 0
UNION ALL
SELECT NULL, 0, 0, 0, 0, 0, issue_id
FROM issue_summaries
WHERE (state IS NULL OR last_seq > %(p)s OR changed_until > %(t)s)
  AND (reported_at IS NULL OR reported_at <= %(t)s)
"""


async def rates_at(conn: Conn, positions: dict[str, int], at: datetime) -> dict[str, UnitRate]:
    """R3.1-R3.5 per unit at ``at`` from the facts up to ``positions`` (R7): the database sums
    the issues whose summary decides their state at ``at`` (`IssueSummary.at`), the others'
    facts are folded here (`merge_rates`). Equal to `unit_rates(issues_as_of(facts, at))`."""
    params = {"t": at, "p": positions.get("ISSUES", 0)}
    cur = await conn.execute(_COUNTS_SQL, params)
    counted: dict[str, RateCounts] = {}
    refold: list[UUID] = []
    for r in await cur.fetchall():
        if r["refold"] is not None:
            refold.append(r["refold"])
        else:
            counted[r["unit_id"]] = RateCounts(
                reported=r["reported"],
                rectified=r["rectified"],
                overdue=r["overdue"],
                rework=int(r["rework"]),
                on_time=r["on_time"],
            )
    facts: list[IssueFact] = []
    if refold:  # facts are append-only: any later read gives the same facts up to p
        cur = await conn.execute(
            "SELECT * FROM issue_facts WHERE issue_id = ANY(%b) AND stream_seq <= %s",
            (refold, params["p"]),
        )
        facts = [issue_fact(r) for r in await cur.fetchall()]
    return merge_rates(counted, issues_as_of(facts, at).values())


async def directory_and_scores(
    conn: Conn, positions: dict[str, int], at: datetime
) -> tuple[list[UnitFact], list[AssessmentScore]]:
    """The unit facts and the scores recorded by ``at`` (R4.2) up to ``positions`` (R7)."""
    cur = await conn.execute(
        "SELECT * FROM unit_facts WHERE stream_seq <= %s", (positions.get("ISSUES", 0),)
    )
    units = [unit_fact(r) for r in await cur.fetchall()]
    cur = await conn.execute(
        "SELECT * FROM score_facts WHERE stream_seq <= %s AND occurred_at <= %s",
        (positions.get("ASSESSMENTS", 0), at),
    )
    scores = [score_fact(r) for r in await cur.fetchall()]
    return units, scores
