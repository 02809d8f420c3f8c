-- Delivery plumbing every service schema carries (DELIVERY.md §3, §4, §6).
-- Applied by common.migrations before the service's own migrations, inside the service schema.

CREATE TABLE IF NOT EXISTS outbox (
    id            uuid PRIMARY KEY,              -- event id: Kafka header and the consumer's inbox key
    topic         text NOT NULL,
    key           text NOT NULL,                 -- aggregate id: per-entity order
    payload       bytea NOT NULL,                -- bytes as published (a DLQ row keeps the original bytes)
    headers       jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at       timestamptz,
    claim_token   uuid,
    claimed_until timestamptz,
    attempts      int NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (created_at, id) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS outbox_dead (
    id         uuid PRIMARY KEY,
    topic      text NOT NULL,
    key        text NOT NULL,
    payload    bytea NOT NULL,
    headers    jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    attempts   int NOT NULL,
    error      text NOT NULL,
    dead_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS inbox (
    consumer    text NOT NULL,
    event_id    uuid NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('applied', 'dead')),
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX IF NOT EXISTS inbox_received_at ON inbox (received_at);

CREATE TABLE IF NOT EXISTS inbox_attempts (
    consumer    text NOT NULL,
    event_id    uuid NOT NULL,
    attempts    int NOT NULL,
    last_error  text NOT NULL,
    first_failed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_failed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);
