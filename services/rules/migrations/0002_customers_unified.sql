-- rules: unified customers with per-field provenance, change history, sync rules and config, decisions
-- (issue #4; DOMAIN.md §5–§6).
--
-- `provenance` is the source of truth for every merged field:
--   {"<field>": {"value": …, "source": "erp|wechat|ai|manual", "at": iso, "verified": bool, "verified_at": iso,
--                "local": {"value", "source", "since", "seen_at", "verified", "verified_at"},   -- our best value
--                "erp":   {"value", "since", "seen_at"},                                       -- what the ERP shows
--                "pending": {"value", "source", "at"}}}                                       -- awaiting a manual merge
-- The columns below it are generated from it, for queries, indexes and the seed's views.

CREATE SEQUENCE customer_code_seq;

CREATE TABLE customers_unified (
    id               text PRIMARY KEY,                  -- cu_<uuid hex>
    code             text NOT NULL UNIQUE,              -- KH-000123: ours, written to the ERP's khid on create
    erp_customer_id  bigint UNIQUE,                     -- 智邦 ord
    wechat_id        text UNIQUE,                       -- identity of the WeChat capture stream
    name_key         text,                              -- company_key(company_name): matches 甲方 and ERP names
    provenance       jsonb NOT NULL DEFAULT '{}',
    contract_linked  boolean NOT NULL DEFAULT false,    -- a standardized contract names this company as 甲方
    capture_version  int NOT NULL DEFAULT 0,            -- last WechatCustomerCaptured version applied

    erp_customer_code text GENERATED ALWAYS AS (provenance #>> '{erp_customer_code,value}') STORED,
    company_name      text GENERATED ALWAYS AS (provenance #>> '{company_name,value}') STORED,
    company_name_source text GENERATED ALWAYS AS (provenance #>> '{company_name,source}') STORED,
    company_name_verified boolean GENERATED ALWAYS AS
        (coalesce((provenance #>> '{company_name,verified}')::boolean, false)) STORED,
    real_name         text GENERATED ALWAYS AS (provenance #>> '{real_name,value}') STORED,
    real_name_source  text GENERATED ALWAYS AS (provenance #>> '{real_name,source}') STORED,
    phone             text GENERATED ALWAYS AS (provenance #>> '{phone,value}') STORED,
    phone_source      text GENERATED ALWAYS AS (provenance #>> '{phone,source}') STORED,
    phone_verified    boolean GENERATED ALWAYS AS
        (coalesce((provenance #>> '{phone,verified}')::boolean, false)) STORED,
    email             text GENERATED ALWAYS AS (provenance #>> '{email,value}') STORED,
    email_source      text GENERATED ALWAYS AS (provenance #>> '{email,source}') STORED,
    email_verified    boolean GENERATED ALWAYS AS
        (coalesce((provenance #>> '{email,verified}')::boolean, false)) STORED,
    address           text GENERATED ALWAYS AS (provenance #>> '{address,value}') STORED,
    address_source    text GENERATED ALWAYS AS (provenance #>> '{address,source}') STORED,
    wechat_nickname   text GENERATED ALWAYS AS (provenance #>> '{wechat_nickname,value}') STORED,
    intent_score      numeric GENERATED ALWAYS AS ((provenance #>> '{intent_score,value}')::numeric) STORED,
    intent_level      text GENERATED ALWAYS AS (provenance #>> '{intent_level,value}') STORED,
    message_count     numeric GENERATED ALWAYS AS ((provenance #>> '{message_count,value}')::numeric) STORED,
    business_license_path text GENERATED ALWAYS AS (provenance #>> '{business_license_path,value}') STORED,
    has_order         boolean GENERATED ALWAYS AS
        (coalesce((provenance #>> '{has_order,value}')::boolean, false)) STORED,
    has_contract      boolean GENERATED ALWAYS AS
        (coalesce((provenance #>> '{has_contract,value}')::boolean, false) OR contract_linked) STORED,
    has_payment       boolean GENERATED ALWAYS AS
        (coalesce((provenance #>> '{has_payment,value}')::boolean, false)) STORED,
    marked_as_important boolean GENERATED ALWAYS AS
        (coalesce((provenance #>> '{marked_as_important,value}')::boolean, false)) STORED,
    marked_as_invalid boolean GENERATED ALWAYS AS
        (coalesce((provenance #>> '{marked_as_invalid,value}')::boolean, false)) STORED,

    data_quality_score  int NOT NULL DEFAULT 0,
    data_completeness   numeric(3, 2) NOT NULL DEFAULT 0,
    quality_factors     jsonb NOT NULL DEFAULT '[]',
    quality_issues      jsonb NOT NULL DEFAULT '[]',

    erp_sync_status     text NOT NULL DEFAULT 'pending'
        CHECK (erp_sync_status IN ('pending', 'synced', 'failed', 'skipped')),
    erp_sync_action     text CHECK (erp_sync_action IN ('create', 'update', 'skip')),
    erp_sync_rule       text,
    erp_sync_reason     text,
    erp_sync_confidence numeric(4, 3),
    erp_sync_error      text,
    sync_version        int NOT NULL DEFAULT 0,         -- last CustomerSyncRequested version
    push_result_version int NOT NULL DEFAULT 0,         -- last CustomerPushCompleted version applied
    requested_fields    jsonb NOT NULL DEFAULT '{}',    -- what the last request asked the ERP to hold
    erp_last_pulled     timestamptz,
    erp_last_pushed     timestamptz,
    local_updated_at    timestamptz,
    erp_updated_at      timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL DEFAULT 'system',
    updated_by          text NOT NULL DEFAULT 'system'
);
CREATE INDEX customers_unified_name_key ON customers_unified (name_key);
CREATE INDEX customers_unified_sync_status ON customers_unified (erp_sync_status);
CREATE INDEX customers_unified_quality ON customers_unified (data_quality_score);
CREATE INDEX customers_unified_phone ON customers_unified (phone);

CREATE TABLE field_change_history (
    id             bigserial PRIMARY KEY,
    customer_id    text NOT NULL REFERENCES customers_unified (id),
    field_name     text NOT NULL,
    old_value      jsonb,
    new_value      jsonb,
    incoming_value jsonb,                               -- the value offered, when policy kept another
    value_source   text NOT NULL DEFAULT 'unknown'
        CHECK (value_source IN ('erp', 'wechat', 'ai', 'manual', 'unknown')),
    change_type    text NOT NULL CHECK (change_type IN ('fill', 'update', 'conflict', 'merge', 'verify')),
    change_reason  text NOT NULL,
    trigger        text NOT NULL,                       -- wechat_capture / erp_pull / push_result
    event_id       uuid,
    changed_by     text NOT NULL DEFAULT 'system',
    changed_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX field_change_history_customer ON field_change_history (customer_id, id);
CREATE INDEX field_change_history_time ON field_change_history (changed_at);

-- Rules, config and field policies: every replica checks `rulebook_version` before it evaluates, and a
-- trigger bumps it on any write, including a hand-written UPDATE like the seed's FAQ Q4.
CREATE TABLE rulebook_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL
);
INSERT INTO rulebook_version VALUES (true, 1);

CREATE FUNCTION bump_rulebook_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rulebook_version SET version = version + 1;
    RETURN NULL;
END $$;

CREATE TABLE erp_sync_rules (
    rule_name       text PRIMARY KEY CHECK (rule_name ~ '^[a-z][a-z0-9_]{0,63}$'),
    rule_priority   int NOT NULL,
    position        int NOT NULL DEFAULT 0,             -- order among equal priorities
    rule_conditions jsonb NOT NULL,                     -- [{"fact", "op", "value" | "config"}], all must hold
    rule_action     text NOT NULL CHECK (rule_action IN ('sync', 'skip')),  -- sync: CREATE or UPDATE
    reason_template text NOT NULL,
    confidence      numeric(4, 3),                      -- NULL: quality score / 100
    gate_exempt     boolean NOT NULL DEFAULT false,     -- true: min_quality_score does not apply
    is_active       boolean NOT NULL DEFAULT true,
    description     text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now(),
    updated_by      text NOT NULL DEFAULT 'migration'
);

CREATE TABLE erp_sync_config (
    config_key   text PRIMARY KEY,
    config_value jsonb NOT NULL,
    description  text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL DEFAULT 'migration'
);

CREATE TABLE field_policies (
    field_name text PRIMARY KEY,
    strategy   text NOT NULL CHECK (strategy IN ('erp_always', 'erp_unless_verified', 'local_wins', 'latest')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT 'migration'
);

CREATE TRIGGER erp_sync_rules_version AFTER INSERT OR UPDATE OR DELETE ON erp_sync_rules
    FOR EACH STATEMENT EXECUTE FUNCTION bump_rulebook_version();
CREATE TRIGGER erp_sync_config_version AFTER INSERT OR UPDATE OR DELETE ON erp_sync_config
    FOR EACH STATEMENT EXECUTE FUNCTION bump_rulebook_version();
CREATE TRIGGER field_policies_version AFTER INSERT OR UPDATE OR DELETE ON field_policies
    FOR EACH STATEMENT EXECUTE FUNCTION bump_rulebook_version();

CREATE TABLE rules_audit (
    id         bigserial PRIMARY KEY,
    entity     text NOT NULL CHECK (entity IN ('rule', 'config', 'field_policy')),
    entity_key text NOT NULL,
    old_value  jsonb,
    new_value  jsonb,
    changed_by text NOT NULL,                           -- the token's client_id
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX rules_audit_time ON rules_audit (changed_at);

-- Seed 004's rules (rules.domain.default_rules; a test keeps both equal).
INSERT INTO erp_sync_rules (rule_name, rule_priority, position, rule_conditions, rule_action, reason_template,
                            confidence, gate_exempt) VALUES
    ('mandatory_has_order', 100, 1, '[{"fact": "has_order", "op": "is_true"}]', 'sync', '客户已下单，必须同步到ERP', 1.0, true),
    ('mandatory_has_contract', 100, 2, '[{"fact": "has_contract", "op": "is_true"}]', 'sync', '客户已签合同，必须同步到ERP', 1.0, true),
    ('mandatory_has_payment', 100, 3, '[{"fact": "has_payment", "op": "is_true"}]', 'sync', '客户已付款，必须同步到ERP', 1.0, true),
    ('mandatory_marked_important', 100, 4, '[{"fact": "marked_as_important", "op": "is_true"}]', 'sync', '销售标记为重要客户', 1.0, true),
    ('high_quality_verified', 80, 5, '[{"fact": "quality_score", "op": ">=", "config": "high_quality_score"}]', 'sync', '高质量客户（{quality_score}分），自动同步', NULL, false),
    ('high_quality_license', 75, 6, '[{"fact": "business_license_verified", "op": "is_true"}, {"fact": "quality_score", "op": ">=", "config": "high_quality_score"}]', 'sync', '高质量客户（{quality_score}分，营业执照已验证），自动同步', NULL, false),
    ('medium_phone_quote', 50, 7, '[{"fact": "phone", "op": "present"}, {"fact": "has_quote_request", "op": "is_true"}]', 'sync', '有手机号且明确询价', 0.75, false),
    ('medium_company_license', 50, 8, '[{"fact": "company_name", "op": "present"}, {"fact": "business_license_path", "op": "present"}]', 'sync', '公司信息完整（有公司名和营业执照）', 0.8, false),
    ('medium_deep_engagement', 45, 9, '[{"fact": "conversation_days", "op": ">=", "value": 7}, {"fact": "message_count", "op": ">=", "value": 50}]', 'sync', '持续深度沟通（{conversation_days}天，{message_count}条消息）', 0.7, false),
    ('low_no_info', 0, 10, '[{"fact": "phone", "op": "absent"}, {"fact": "company_name", "op": "absent"}, {"fact": "real_name", "op": "absent"}]', 'skip', '信息不足（无手机号、公司名、真实姓名）', NULL, false),
    ('low_intent', 0, 11, '[{"fact": "intent_score", "op": "<", "value": 30}]', 'skip', '商业意向过低（{intent_score}分）', NULL, false),
    ('low_engagement', 0, 12, '[{"fact": "message_count", "op": "<", "value": 5}]', 'skip', '互动次数不足（{message_count}条消息）', NULL, false),
    ('low_marked_invalid', 0, 13, '[{"fact": "marked_as_invalid", "op": "is_true"}]', 'skip', '已标记为无效客户', NULL, false);

INSERT INTO erp_sync_config (config_key, config_value, description) VALUES
    ('min_quality_score', '60', '最低同步质量分（强制规则除外）'),
    ('high_quality_score', '80', '高质量规则的质量分门槛'),
    ('min_intent_score', '50', '最低意向分（供规则条件引用）'),
    ('batch_size', '50', '推送批量（参考值；erp-connector 以自身设置为准）'),
    ('verify_before_sync', 'true', '推送前校验必填项与格式'),
    ('auto_fix_format', 'true', '合并前规范手机号与公司名'),
    ('erp_time_precision_s', '3600', 'ERP 时间精度（拉取周期）：此窗口内的双方修改交人工合并');

INSERT INTO field_policies (field_name, strategy) VALUES
    ('erp_customer_id', 'erp_always'),
    ('erp_customer_code', 'erp_always'),
    ('phone', 'erp_unless_verified'),
    ('company_name', 'erp_unless_verified'),
    ('real_name', 'erp_unless_verified'),
    ('email', 'latest'),
    ('address', 'latest'),
    ('wechat_id', 'local_wins'),
    ('wechat_nickname', 'local_wins'),
    ('wechat_avatar', 'local_wins'),
    ('intent_score', 'local_wins'),
    ('message_count', 'local_wins');
-- Fields without a row follow their default in rules.domain.fields (`latest` for everything else).

-- Decisions, push requests and what came of them.
CREATE TABLE sync_decisions (
    id               bigserial PRIMARY KEY,
    customer_id      text NOT NULL REFERENCES customers_unified (id),
    rule_name        text NOT NULL,
    action           text NOT NULL CHECK (action IN ('CREATE', 'UPDATE', 'SKIP')),
    reason           text NOT NULL,
    confidence       numeric(4, 3) NOT NULL,
    gates            jsonb NOT NULL DEFAULT '[]',
    quality_score    int NOT NULL,
    emitted          boolean NOT NULL,                  -- a CustomerSyncRequested was written
    sync_version     int,                               -- its version, when emitted
    trigger          text NOT NULL,
    rulebook_version bigint NOT NULL,
    decided_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX sync_decisions_customer ON sync_decisions (customer_id, id);
CREATE INDEX sync_decisions_time ON sync_decisions (decided_at);

CREATE TABLE sync_requests (
    customer_id  text NOT NULL REFERENCES customers_unified (id),
    version      int NOT NULL,
    action       text NOT NULL CHECK (action IN ('create', 'update')),
    fields       jsonb NOT NULL,                        -- our field names
    rule_name    text NOT NULL,
    reason       text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    result       text CHECK (result IN ('synced', 'failed')),
    erp_id       bigint,
    error        text,
    completed_at timestamptz,
    PRIMARY KEY (customer_id, version)
);

-- One row per pull applied and per push result (the seed's erp_sync_logs, as seen from rules).
CREATE TABLE sync_log (
    id             bigserial PRIMARY KEY,
    customer_id    text NOT NULL REFERENCES customers_unified (id),
    sync_direction text NOT NULL CHECK (sync_direction IN ('erp_to_local', 'local_to_erp', 'bidirectional')),
    sync_type      text NOT NULL CHECK (sync_type IN ('pull', 'push', 'merge')),
    sync_result    text NOT NULL CHECK (sync_result IN ('success', 'failed', 'partial')),
    detail         jsonb NOT NULL DEFAULT '{}',
    synced_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX sync_log_time ON sync_log (synced_at);

-- The seed's operator views.
CREATE VIEW v_pending_sync_customers AS
SELECT c.*,
       CASE
           WHEN c.has_order OR c.has_contract OR c.has_payment OR c.marked_as_important THEN 'mandatory'
           WHEN c.data_quality_score >= coalesce(
               (SELECT (config_value #>> '{}')::int FROM erp_sync_config WHERE config_key = 'high_quality_score'), 80)
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

CREATE VIEW v_sync_statistics AS
SELECT (synced_at AT TIME ZONE 'UTC')::date AS sync_date, sync_direction, sync_result, count(*) AS count
FROM sync_log
GROUP BY 1, 2, 3;
