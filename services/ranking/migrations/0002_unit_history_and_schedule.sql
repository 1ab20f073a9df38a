-- One row per unit and published edition revision, written with the edition in one transaction:
-- what GET /v1/units/{unit_id}/history reads (rate, score and rank per edition, R3.5, R4).
CREATE TABLE edition_units (
    year      int NOT NULL,
    number    int NOT NULL,
    revision  int NOT NULL,
    unit_id   text NOT NULL,
    category  text NOT NULL,
    listed    text CHECK (listed IN ('red', 'black')),
    row       jsonb NOT NULL,
    PRIMARY KEY (year, number, revision, unit_id),
    FOREIGN KEY (year, number, revision) REFERENCES editions (year, number, revision)
);
CREATE INDEX edition_units_by_unit ON edition_units (unit_id, year, number, revision);

-- R4.1: a scheduled cutoff is published once; replicas coordinate through this key (the
-- publication itself is serialised by an advisory lock).
CREATE TABLE scheduled_editions (
    cutoff       timestamptz PRIMARY KEY,
    year         int NOT NULL,
    number       int NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

-- R7: the rule version of each revision, so a start can check that every version ever used is
-- still in the rules file.
ALTER TABLE editions ADD COLUMN rule_version text;
