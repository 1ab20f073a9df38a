-- The unit directory (R1): the issues service owns it.
CREATE TABLE units (
    unit_id    text PRIMARY KEY,
    name       text NOT NULL,
    category   text NOT NULL CHECK (category IN ('department', 'district', 'town')),
    parent_id  text REFERENCES units (unit_id),
    active     boolean NOT NULL,
    version    int NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Gap-free issue numbers per year (R2.1): the counter row is locked and incremented in the
-- reporting transaction, so a rolled-back report gives its number back.
CREATE TABLE issue_numbers (
    year int PRIMARY KEY,
    last int NOT NULL
);

CREATE TABLE issues (
    issue_id           uuid PRIMARY KEY,
    number             text NOT NULL UNIQUE,
    unit_id            text NOT NULL REFERENCES units (unit_id),
    category           text NOT NULL,
    found_at           timestamptz NOT NULL,
    reported_at        timestamptz NOT NULL,
    deadline           timestamptz NOT NULL,
    state              text NOT NULL,
    rework_count       int NOT NULL,
    version            int NOT NULL,
    first_rectified_at timestamptz,
    imported           boolean NOT NULL,
    updated_at         timestamptz NOT NULL,
    overdue_emitted    boolean NOT NULL DEFAULT false,
    requested_deadline timestamptz,
    details            jsonb NOT NULL,
    request_id         uuid UNIQUE
);
CREATE INDEX issues_by_unit ON issues (unit_id, reported_at);

-- Append-only history: who did what, when and why (R2.3).
CREATE TABLE issue_history (
    id         bigserial PRIMARY KEY,
    issue_id   uuid NOT NULL REFERENCES issues (issue_id),
    version    int NOT NULL,
    kind       text NOT NULL,
    actor      text NOT NULL,
    at         timestamptz NOT NULL,
    data       jsonb NOT NULL,
    UNIQUE (issue_id, version)
);
