-- Escalation state (R5.3): the latest revision of each edition's lists, the input of the fold.
CREATE TABLE listings (
    year     int NOT NULL,
    number   int NOT NULL,
    revision int NOT NULL,
    red      text[] NOT NULL,
    black    text[] NOT NULL,
    PRIMARY KEY (year, number)
);

-- Per-unit streak k after the latest edition (R5.3), a projection of the fold for readers.
CREATE TABLE streaks (
    unit_id        text PRIMARY KEY,
    k              int NOT NULL CHECK (k >= 1),
    through_year   int NOT NULL,
    through_number int NOT NULL
);

-- Talks ordered by black listings (约谈/问责, R5.3); a correction cancels one.
CREATE TABLE talks (
    unit_id    text NOT NULL,
    year       int NOT NULL,
    number     int NOT NULL,
    revision   int NOT NULL,
    k          int NOT NULL,
    level      text NOT NULL,
    status     text NOT NULL CHECK (status IN ('ordered', 'cancelled')),
    ordered_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (unit_id, year, number)
);

-- One row per (notice, channel): the notice itself, the body to send and the delivery state.
-- notice_key (type/recipient/edition/revision) makes planning idempotent beyond the event id.
CREATE TABLE deliveries (
    delivery_id     uuid PRIMARY KEY,
    event_id        uuid NOT NULL,
    notice_key      text NOT NULL,
    notice_type     text NOT NULL,
    recipient       text NOT NULL,
    unit_id         text,
    channel         text NOT NULL,
    year            int NOT NULL,
    number          int NOT NULL,
    revision        int NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL
        CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (notice_key, channel)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_unit ON deliveries (unit_id, created_at);

-- The delivery log: one row per attempt.
CREATE TABLE delivery_attempts (
    delivery_id uuid NOT NULL REFERENCES deliveries (delivery_id),
    attempt     int NOT NULL,
    at          timestamptz NOT NULL,
    outcome     text NOT NULL,
    status_code int,
    detail      text NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
