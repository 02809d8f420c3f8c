-- Seed 004's FAQ Q4 as written must work on this schema (issue 14):
--
-- 1. `WHERE is_active = 1` / `SET is_active = 0`: PostgreSQL has no boolean = integer operator and no implicit
--    integer -> boolean assignment cast, so the column becomes smallint 0/1 (the seed's SQLite type). The code reads
--    it as a boolean (rules.adapters.rulebook_store).
-- 2. `UPDATE erp_sync_config SET config_value = '70' WHERE config_key = 'min_quality_score'` is the seed's way to
--    "修改高质量分数阈值" (config.yaml: rules.high_quality_sync.min_quality_score: 80). Here that key meant the
--    lowest score for any sync (the seed's data_quality.min_score_for_sync: 60). The keys now carry the seed's names:
--    min_quality_score = the high-quality rules' threshold (80), min_score_for_sync = the gate (60).
ALTER TABLE erp_sync_rules ALTER COLUMN is_active DROP DEFAULT;
ALTER TABLE erp_sync_rules ALTER COLUMN is_active TYPE smallint USING is_active::int;
ALTER TABLE erp_sync_rules ALTER COLUMN is_active SET DEFAULT 1;
ALTER TABLE erp_sync_rules ADD CONSTRAINT erp_sync_rules_is_active_01 CHECK (is_active IN (0, 1));

UPDATE erp_sync_config SET config_key = 'min_score_for_sync', description = '最低同步质量分（强制规则除外）'
WHERE config_key = 'min_quality_score';
UPDATE erp_sync_config SET config_key = 'min_quality_score', description = '高质量规则的质量分门槛'
WHERE config_key = 'high_quality_score';

-- Rules that referred to the threshold by its old key refer to it by the seed's.
UPDATE erp_sync_rules
SET rule_conditions = (
    SELECT jsonb_agg(CASE WHEN c ->> 'config' = 'high_quality_score'
                          THEN jsonb_set(c, '{config}', '"min_quality_score"') ELSE c END ORDER BY o)
    FROM jsonb_array_elements(rule_conditions) WITH ORDINALITY AS e(c, o))
WHERE rule_conditions @> '[{"config": "high_quality_score"}]';

CREATE OR REPLACE VIEW v_pending_sync_customers AS
SELECT c.*,
       CASE
           WHEN c.has_order OR c.has_contract OR c.has_payment OR c.marked_as_important THEN 'mandatory'
           WHEN c.data_quality_score >= coalesce(
               (SELECT (config_value #>> '{}')::int FROM erp_sync_config WHERE config_key = 'min_quality_score'), 80)
               THEN 'high_quality'
           WHEN c.data_quality_score >= 50 THEN 'medium_quality'
           ELSE 'low_quality'
       END AS sync_priority,
       CASE
           WHEN c.erp_customer_id IS NULL THEN 'CREATE'
           WHEN c.local_updated_at > coalesce(c.erp_last_pushed, '-infinity') THEN 'UPDATE'
           ELSE 'SKIP'
       END AS recommended_action
FROM customers_unified c
WHERE c.erp_sync_status IN ('pending', 'failed') AND NOT c.marked_as_invalid;
