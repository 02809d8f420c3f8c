-- Seed 004's daily health check and its alert script read `erp_sync_logs` (sync_direction, sync_result,
-- synced_at). Here that log is `sync_log`; this view gives it the seed's name so the seed's queries run as written:
--   SELECT sync_direction, sync_result, COUNT(*) AS count FROM erp_sync_logs
--   WHERE DATE(synced_at) = DATE('now') GROUP BY sync_direction, sync_result;
-- DATE(synced_at) takes the session's time zone; the service's role and the stack's server run in UTC, the same
-- day v_sync_statistics (and GET /customers/sync-statistics, which reads that view) uses.
CREATE VIEW erp_sync_logs AS
SELECT id, customer_id, sync_direction, sync_type, sync_result, detail, synced_at
FROM sync_log;
