-- Each issue's summary: its state after every fact so far and when it last changed (R2-R3,
-- services/ranking/domain/issues.py IssueSummary). An edition sums the issues whose summary
-- decides their state at its cutoff and folds only the facts of the others, so editions over
-- a million issues stay fast. Kept in the transaction that records the issue's facts.
CREATE INDEX issue_facts_by_issue ON issue_facts (issue_id);

CREATE TABLE issue_summaries (
    issue_id           uuid PRIMARY KEY,
    unit_id            text,
    reported_at        timestamptz,
    deadline           timestamptz,
    -- NULL: the issue's facts do not fold (two reports...); editions fold them and say why.
    state              text,
    rework_count       int,
    first_rectified_at timestamptz,
    on_time            boolean,
    -- The latest occurred_at of its facts other than the report; NULL: only reported.
    changed_until      timestamptz,
    -- The highest stream sequence among its facts (R7 input positions).
    last_seq           bigint NOT NULL
);
CREATE INDEX issue_summaries_by_seq ON issue_summaries (last_seq);
CREATE INDEX issue_summaries_by_change ON issue_summaries (changed_until);
CREATE INDEX issue_summaries_unfolded ON issue_summaries (issue_id) WHERE state IS NULL;

-- A projection that held facts before this migration builds its summaries once, at start.
CREATE TABLE issue_summaries_backfill (pending boolean NOT NULL);
INSERT INTO issue_summaries_backfill SELECT EXISTS (SELECT 1 FROM issue_facts);
