-- Transactional outbox: written in the same transaction as the state change it reports; the
-- relay publishes rows in id order with Nats-Msg-Id = event_id and marks them published. A row
-- that fails to publish is retried with backoff (later rows wait, to keep the order) and, after
-- too many attempts, parked with its last error for an operator (it then blocks nothing).
CREATE TABLE IF NOT EXISTS outbox (
    id              bigserial PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    subject         text NOT NULL,
    payload         bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    stream_seq      bigint,
    attempts        int NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    parked_at       timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id)
    WHERE published_at IS NULL AND parked_at IS NULL;

-- Idempotent consumer: an event id applied by a consumer is recorded in the same transaction as
-- the state change, so a redelivery changes nothing.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    subject      text NOT NULL,
    stream_seq   bigint,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX IF NOT EXISTS processed_events_age ON processed_events (processed_at);
