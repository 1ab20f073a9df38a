-- Ranking's own projection of the facts it needs, each with the stream position it came from,
-- so an edition can be computed from exactly the events up to its input positions (R7).
CREATE TABLE unit_facts (
    event_id          uuid PRIMARY KEY,
    unit_id           text NOT NULL,
    kind              text NOT NULL,
    occurred_at       timestamptz NOT NULL,
    aggregate_version int NOT NULL,
    name              text,
    category          text,
    parent_id         text,
    active            boolean,
    stream_seq        bigint NOT NULL
);

CREATE TABLE issue_facts (
    event_id          uuid PRIMARY KEY,
    issue_id          uuid NOT NULL,
    kind              text NOT NULL,
    occurred_at       timestamptz NOT NULL,
    aggregate_version int NOT NULL,
    unit_id           text,
    reported_at       timestamptz,
    deadline          timestamptz,
    stream_seq        bigint NOT NULL
);
CREATE INDEX issue_facts_by_seq ON issue_facts (stream_seq);

CREATE TABLE score_facts (
    event_id    uuid PRIMARY KEY,
    unit_id     text NOT NULL,
    month       text NOT NULL,
    score       text NOT NULL,
    occurred_at timestamptz NOT NULL,
    stream_seq  bigint NOT NULL
);

-- Input positions: per stream, the highest sequence up to which every message was handled
-- (applied, recognised as a duplicate, or dead-lettered). Handled sequences above a gap wait
-- in applied_seqs until the gap closes.
CREATE TABLE input_positions (
    stream    text PRIMARY KEY,
    watermark bigint NOT NULL
);
CREATE TABLE applied_seqs (
    stream text NOT NULL,
    seq    bigint NOT NULL,
    PRIMARY KEY (stream, seq)
);

-- Every published revision of every edition (R4.1), exactly as published.
CREATE TABLE editions (
    year         int NOT NULL,
    number       int NOT NULL,
    revision     int NOT NULL,
    cutoff       timestamptz NOT NULL,
    digest       text NOT NULL,
    event_id     uuid NOT NULL UNIQUE,
    published_at timestamptz NOT NULL,
    payload      bytea NOT NULL,
    PRIMARY KEY (year, number, revision)
);
CREATE INDEX editions_by_cutoff ON editions (cutoff, revision DESC);
