-- Each unit's tallies over its counted issue summaries (state known and not void, R3.1-R3.4):
-- how many issues, rectified (or verified), rework, on time, and still open. Kept by triggers
-- on issue_summaries from the rows each statement changed (PostgreSQL's transition tables hold
-- their values before and after), so an edition reads 10,000 rows instead of summing a million
-- summaries; it subtracts the issues its cutoff or input position leaves out
-- (projection.rates_at). Summary batches are serialised by their stream's input position lock;
-- the rows are changed in unit order anyway, so two writers could never deadlock here.
CREATE TABLE unit_tallies (
    unit_id   text PRIMARY KEY,
    reported  int NOT NULL,
    rectified int NOT NULL,
    rework    int NOT NULL,
    on_time   int NOT NULL,
    open      int NOT NULL
);

-- A summary's share of its unit's tallies, times sign (+1 after, -1 before a change); no row
-- when the summary is not counted.
CREATE FUNCTION summary_tally(sign int, state text, rework_count int, on_time boolean)
RETURNS TABLE (n int, rectified int, rework int, on_time int, open int)
LANGUAGE sql IMMUTABLE AS $$
    SELECT sign, sign * (state IN ('rectified', 'verified'))::int,
           sign * coalesce(rework_count, 0), sign * (on_time IS TRUE)::int,
           sign * (state IN ('open', 'reopened'))::int
    WHERE state IS NOT NULL AND state <> 'void'
$$;

-- Transition tables exist only for their trigger's event (an insert has no old rows), hence
-- the two statements, alike but for the rows they read.
CREATE FUNCTION tally_issue_summaries() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM unit_tallies;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO unit_tallies AS t
        SELECT s.unit_id, sum(c.n), sum(c.rectified), sum(c.rework), sum(c.on_time), sum(c.open)
        FROM new_summaries s, summary_tally(1, s.state, s.rework_count, s.on_time) c
        GROUP BY s.unit_id ORDER BY s.unit_id
        ON CONFLICT (unit_id) DO UPDATE SET
            reported = t.reported + EXCLUDED.reported,
            rectified = t.rectified + EXCLUDED.rectified,
            rework = t.rework + EXCLUDED.rework,
            on_time = t.on_time + EXCLUDED.on_time,
            open = t.open + EXCLUDED.open;
    ELSE
        INSERT INTO unit_tallies AS t
        SELECT change.unit_id, sum(c.n), sum(c.rectified), sum(c.rework), sum(c.on_time),
               sum(c.open)
        FROM (
            SELECT 1 AS sign, * FROM new_summaries UNION ALL SELECT -1, * FROM old_summaries
        ) AS change, summary_tally(change.sign, change.state, change.rework_count, change.on_time) c
        GROUP BY change.unit_id ORDER BY change.unit_id
        ON CONFLICT (unit_id) DO UPDATE SET
            reported = t.reported + EXCLUDED.reported,
            rectified = t.rectified + EXCLUDED.rectified,
            rework = t.rework + EXCLUDED.rework,
            on_time = t.on_time + EXCLUDED.on_time,
            open = t.open + EXCLUDED.open;
    END IF;
    RETURN NULL;
END
$$;

-- One trigger per event: PostgreSQL allows transition tables only on single-event triggers.
-- An INSERT ... ON CONFLICT DO UPDATE fires both, each with its own rows.
CREATE TRIGGER tally_inserted_summaries AFTER INSERT ON issue_summaries
    REFERENCING NEW TABLE AS new_summaries
    FOR EACH STATEMENT EXECUTE FUNCTION tally_issue_summaries();
CREATE TRIGGER tally_updated_summaries AFTER UPDATE ON issue_summaries
    REFERENCING OLD TABLE AS old_summaries NEW TABLE AS new_summaries
    FOR EACH STATEMENT EXECUTE FUNCTION tally_issue_summaries();
CREATE TRIGGER tally_truncated_summaries AFTER TRUNCATE ON issue_summaries
    FOR EACH STATEMENT EXECUTE FUNCTION tally_issue_summaries();

-- A projection holding summaries already starts with their tallies.
INSERT INTO unit_tallies (unit_id, reported, rectified, rework, on_time, open)
SELECT unit_id, count(*),
       count(*) FILTER (WHERE state IN ('rectified', 'verified')),
       coalesce(sum(rework_count), 0),
       count(*) FILTER (WHERE on_time),
       count(*) FILTER (WHERE state IN ('open', 'reopened'))
FROM issue_summaries WHERE state IS NOT NULL AND state <> 'void'
GROUP BY unit_id;

-- What an edition subtracts from the tallies, found through indexes: the issues reported or
-- changed after its cutoff (beside issue_summaries_by_seq for those beyond its position), and
-- the open issues whose deadline has not passed at the cutoff (not overdue, R3.2).
CREATE INDEX issue_summaries_by_last_time ON issue_summaries (GREATEST(reported_at, changed_until));
CREATE INDEX issue_summaries_open_by_deadline ON issue_summaries (deadline)
    WHERE state IN ('open', 'reopened');
