-- The fund of each campaign year (R6.1, R6.2), created on first use from the settings. The row
-- is locked by every settlement of the year, so settlements of one year never interleave; the
-- CHECKs make the database itself refuse to pay out more than the fund (R6.4).
CREATE TABLE funds (
    year             int PRIMARY KEY,
    fund             bigint NOT NULL CHECK (fund >= 0),
    planned_editions int NOT NULL CHECK (planned_editions >= 1),
    allocated        bigint NOT NULL DEFAULT 0 CHECK (allocated >= 0),
    -- aggregate_version of the year's incentives.v1.allocated events (aggregate fund-<year>)
    version          int NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (allocated <= fund)
);

-- One row per settled revision of an edition (R6.4): ``pool`` is the edition's ORIGINAL pool,
-- ``split`` what was divided this time. UNIQUE (year, edition, revision): a revision is settled
-- at most once, whatever the transport does.
CREATE TABLE settled_revisions (
    id              bigserial PRIMARY KEY,
    year            int NOT NULL REFERENCES funds (year),
    edition         int NOT NULL CHECK (edition >= 1),
    revision        int NOT NULL CHECK (revision >= 1),
    outcome         text NOT NULL CHECK (outcome IN ('allocated', 'adjusted')),
    cutoff          timestamptz NOT NULL,
    pool            bigint NOT NULL CHECK (pool >= 0),
    split           bigint NOT NULL CHECK (split >= 0),
    rule_version    text NOT NULL,
    source_event_id uuid NOT NULL,
    -- R7: where the edition sat on the RANKING stream
    stream_seq      bigint,
    settled_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, edition, revision)
);

-- Every movement of money (R6.3 allocation, R6.4 adjustment). Append-only.
CREATE TABLE ledger_entries (
    id              bigserial PRIMARY KEY,
    year            int NOT NULL,
    edition         int NOT NULL,
    revision        int NOT NULL,
    unit_id         text NOT NULL,
    fen             bigint NOT NULL CHECK (fen <> 0),
    kind            text NOT NULL CHECK (kind IN ('allocation', 'adjustment')),
    rule_version    text NOT NULL,
    source_event_id uuid NOT NULL,
    booked_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, edition, revision, unit_id, kind),
    FOREIGN KEY (year, edition, revision) REFERENCES settled_revisions (year, edition, revision)
);
CREATE INDEX ledger_entries_by_unit ON ledger_entries (year, unit_id);

-- R6.4: the ledger is append-only; the database refuses to rewrite history.
CREATE FUNCTION refuse_ledger_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the incentives ledger is append-only (R6.4): % on % refused',
        TG_OP, TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER settled_revisions_append_only BEFORE UPDATE OR DELETE ON settled_revisions
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_rewrite();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_ledger_rewrite();
