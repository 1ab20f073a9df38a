-- Recipients (R5): units and offices, with their contacts, managed by the office.
CREATE TABLE recipients (
    recipient  text PRIMARY KEY,  -- unit:<unit_id> or office:<role>
    name       text NOT NULL,
    contacts   jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL
);

-- Their channels; ``channel`` (<recipient>/<name>) is also the rate limit's identity.
-- The secret is stored so that deliveries can sign; it is never returned or logged.
CREATE TABLE channels (
    channel    text PRIMARY KEY,
    recipient  text NOT NULL REFERENCES recipients (recipient) ON DELETE CASCADE,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('webhook', 'wecom', 'dingtalk')),
    url        text NOT NULL,
    secret     text,
    updated_at timestamptz NOT NULL
);
CREATE INDEX channels_by_recipient ON channels (recipient);

-- Notices about issues and allocations have no edition (R5.1, R5.4).
ALTER TABLE deliveries
    ALTER COLUMN year DROP NOT NULL,
    ALTER COLUMN number DROP NOT NULL,
    ADD COLUMN about text,
    -- an office resend starts a new attempt chain with a webhook-id of its own
    ADD COLUMN resends int NOT NULL DEFAULT 0,
    ADD COLUMN chain_attempts int NOT NULL DEFAULT 0;

-- The send log of each channel, read by the rate limiter.
ALTER TABLE delivery_attempts ADD COLUMN channel text;
CREATE INDEX delivery_attempts_by_channel ON delivery_attempts (channel, at);

-- Deliveries given up after their attempts.
CREATE TABLE dead_letters (
    delivery_id uuid PRIMARY KEY REFERENCES deliveries (delivery_id),
    notice_type text NOT NULL,
    recipient   text NOT NULL,
    channel     text NOT NULL,
    attempts    int NOT NULL,
    reason      text NOT NULL,
    failed_at   timestamptz NOT NULL,
    resent_at   timestamptz
);

-- Talks as the office records them (R5.3).
ALTER TABLE talks DROP CONSTRAINT talks_status_check;
ALTER TABLE talks
    ADD CONSTRAINT talks_status_check
        CHECK (status IN ('ordered', 'scheduled', 'held', 'cancelled')),
    ADD COLUMN talk_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN scheduled_for date,
    ADD COLUMN held_on date,
    ADD COLUMN minutes text;

-- Issues as the reminders need them (R5.1), each attribute with the version that set it.
CREATE TABLE tracked_issues (
    issue_id         uuid PRIMARY KEY,
    state            text NOT NULL,
    state_version    int NOT NULL,
    unit_id          text,
    unit_version     int NOT NULL,
    deadline         timestamptz,
    deadline_version int NOT NULL,
    details          jsonb,
    remind_at        timestamptz,
    reminded_for     timestamptz
);
CREATE INDEX tracked_issues_due ON tracked_issues (remind_at)
    WHERE state IN ('open', 'reopened');
