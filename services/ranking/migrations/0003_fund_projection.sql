-- The board page's view of the fund (R6): each incentives.v1.allocated settlement as received,
-- recorded once per event id (and per edition revision), with the fen each unit was booked.
-- Read-only for ranking: the numbers are incentives', never recomputed here.
CREATE TABLE fund_settlements (
    event_id        uuid PRIMARY KEY,
    year            int NOT NULL,
    edition         int NOT NULL,
    revision        int NOT NULL,
    pool            bigint NOT NULL,
    fund            bigint NOT NULL,
    allocated_total bigint NOT NULL,
    remaining       bigint NOT NULL,
    occurred_at     timestamptz NOT NULL,
    stream_seq      bigint,
    UNIQUE (year, edition, revision)
);
CREATE TABLE fund_awards (
    year     int NOT NULL,
    edition  int NOT NULL,
    revision int NOT NULL,
    unit_id  text NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('allocation', 'adjustment')),
    fen      bigint NOT NULL,
    PRIMARY KEY (year, edition, revision, unit_id, kind),
    FOREIGN KEY (year, edition, revision) REFERENCES fund_settlements (year, edition, revision)
);
CREATE INDEX fund_awards_by_year ON fund_awards (year, unit_id);
