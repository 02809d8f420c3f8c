-- erp: sync logs. Pull cursors, content hashes, API call logs and push attempts come with issue #4.

CREATE TABLE erp_sync_logs (
    id             bigserial PRIMARY KEY,
    sync_direction text NOT NULL CHECK (sync_direction IN ('erp_to_local', 'local_to_erp', 'bidirectional')),
    sync_type      text NOT NULL CHECK (sync_type IN ('pull', 'push', 'merge')),
    sync_result    text NOT NULL CHECK (sync_result IN ('success', 'failed', 'partial')),
    detail         jsonb NOT NULL DEFAULT '{}',
    synced_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erp_sync_logs_synced_at ON erp_sync_logs (synced_at);
