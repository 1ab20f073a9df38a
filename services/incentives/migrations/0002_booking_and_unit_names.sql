-- R6.4 in the database itself: money enters the ledger only by moving funds.allocated in the
-- same statement, so the CHECK (allocated <= fund) of funds refuses an overspend inside the
-- transaction that attempts it, whatever the code above does and however many replicas run.
CREATE FUNCTION book_entries_into_fund() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE funds f SET allocated = f.allocated + added.total
      FROM (SELECT year, sum(fen) AS total FROM new_entries GROUP BY year) AS added
     WHERE f.year = added.year;
    RETURN NULL;
END;
$$;
CREATE TRIGGER ledger_entries_book_into_fund AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION book_entries_into_fund();

-- ... and funds.allocated moves only that way: it always equals the net of the year's entries.
CREATE FUNCTION refuse_direct_allocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.allocated IS DISTINCT FROM OLD.allocated AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'funds.allocated of % moves only with ledger entries (R6.4)', OLD.year;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER funds_allocated_follows_ledger BEFORE UPDATE ON funds
    FOR EACH ROW EXECUTE FUNCTION refuse_direct_allocation();

-- Names and categories for the finance office's exports, as the editions give them (R1.1):
-- incentives never reads another service's tables. The latest edition revision wins.
CREATE TABLE unit_names (
    unit_id  text PRIMARY KEY,
    name     text NOT NULL,
    category text NOT NULL CHECK (category IN ('department', 'district', 'town')),
    year     int NOT NULL,
    edition  int NOT NULL,
    revision int NOT NULL
);
