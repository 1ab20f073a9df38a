-- Keyset pagination of GET /v1/issues: newest report first, the issue id breaks ties.
CREATE INDEX issues_by_reported ON issues (reported_at DESC, issue_id DESC);

-- R2.4: the overdue scheduler scans only issues that may enter the condition.
CREATE INDEX issues_overdue_candidates ON issues (deadline)
    WHERE state IN ('open', 'reopened') AND NOT overdue_emitted;

-- R2.5: the population of a draw is the issues rectified on the day before.
CREATE INDEX issue_history_by_kind ON issue_history (kind, at);

-- R2.5: one seeded draw per day, stored once made so that it never changes afterwards.
CREATE TABLE reinspection_draws (
    draw_date  date PRIMARY KEY,
    seed       text NOT NULL,
    share      text NOT NULL,
    population int NOT NULL,
    drawn_at   timestamptz NOT NULL
);

-- The issues to re-inspect on a day: drawn, or added by hand by the office.
CREATE TABLE reinspections (
    draw_date date NOT NULL,
    issue_id  uuid NOT NULL REFERENCES issues (issue_id),
    source    text NOT NULL CHECK (source IN ('draw', 'manual')),
    added_by  text NOT NULL,
    reason    text NOT NULL DEFAULT '',
    added_at  timestamptz NOT NULL,
    PRIMARY KEY (draw_date, issue_id)
);
