-- Indexes the plumbing lacked (issue 8). A separate file: plumbing.sql is checksummed where it was applied.

-- The relay's lane claim (OutboxStore.claim): a priority lane finds its few unsent rows without walking
-- past a bulk import's backlog of other topics.
CREATE INDEX IF NOT EXISTS outbox_unsent_topic ON outbox (topic, created_at, id) WHERE sent_at IS NULL;

-- Retention of attempt counters (common.retention): by age of the last failure.
CREATE INDEX IF NOT EXISTS inbox_attempts_last_failed_at ON inbox_attempts (last_failed_at);
