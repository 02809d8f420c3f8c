-- erp (issue #4): pull hashes, the push queue, push attempts, ERP API call logs, connector state.

-- One row per ERP customer (ord) the pull has seen. Rows are never deleted: an ord that stops
-- appearing is flagged not visible (a permission change or a move to 客户池 looks the same).
CREATE TABLE erp_customer_hashes (
    erp_id            bigint PRIMARY KEY,                 -- 智邦 ord
    code              text,                               -- khid
    name              text,
    content_hash      text NOT NULL,
    version           int NOT NULL,                       -- +1 per content change; in the pulled event id
    fields            jsonb NOT NULL,                     -- normalised record as last emitted
    raw               jsonb NOT NULL,                     -- the untouched list row
    visible           boolean NOT NULL DEFAULT true,
    missed_scans      int NOT NULL DEFAULT 0,             -- complete scans in a row without this ord
    last_seen_scan    bigint NOT NULL,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at      timestamptz NOT NULL DEFAULT now(),
    changed_at        timestamptz NOT NULL DEFAULT now(),
    not_visible_since timestamptz
);
CREATE INDEX erp_customer_hashes_code ON erp_customer_hashes (code) WHERE code IS NOT NULL;
CREATE INDEX erp_customer_hashes_scan ON erp_customer_hashes (last_seen_scan) WHERE visible;
CREATE SEQUENCE erp_pull_scan_seq;

-- Every CustomerSyncRequested received (inbox-guarded), with its original bytes for the DLQ.
CREATE TABLE erp_push_requests (
    customer_id     text NOT NULL,
    version         bigint NOT NULL,
    event_id        uuid NOT NULL,
    action          text NOT NULL,
    code            text NOT NULL,
    request_erp_id  bigint,
    fields          jsonb NOT NULL,
    rule            text NOT NULL DEFAULT '',
    reason          text NOT NULL DEFAULT '',
    command         bytea NOT NULL,
    command_headers jsonb NOT NULL DEFAULT '{}',
    received_at     timestamptz NOT NULL DEFAULT now(),
    outcome         text CHECK (outcome IN ('synced', 'dead', 'superseded')),
    PRIMARY KEY (customer_id, version)
);
CREATE INDEX erp_push_requests_received ON erp_push_requests (received_at) WHERE outcome IS NOT NULL;

-- One row per customer: the newest requested version supersedes older pending ones. The worker
-- claims rows with a lease; `stage` and `erp_id` make a retry resume where the last try stopped.
CREATE TABLE erp_push_queue (
    customer_id     text PRIMARY KEY,
    version         bigint NOT NULL,                     -- the version being (or last) pushed
    latest_version  bigint NOT NULL,                     -- the newest version received
    status          text NOT NULL CHECK (status IN ('pending', 'in_flight', 'synced', 'dead')),
    stage           text NOT NULL CHECK (stage IN ('resolve', 'write', 'verify')),
    erp_id          bigint,
    erp_id_origin   text CHECK (erp_id_origin IN ('request', 'code', 'name', 'allocated')),
    write_code      boolean NOT NULL DEFAULT true,       -- write our code into khid
    attempts        int NOT NULL DEFAULT 0,              -- ERP saves for this version (<= push.max_attempts)
    read_failures   int NOT NULL DEFAULT 0,              -- failed lookups / allocations / read-backs
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claim_token     uuid,
    claimed_until   timestamptz,
    last_error      text,
    enqueued_at     timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    synced_version  bigint
);
CREATE INDEX erp_push_queue_due ON erp_push_queue (next_attempt_at) WHERE status IN ('pending', 'in_flight');

-- One row per step a push took against the ERP (lookups, allocation, each save, each read-back).
CREATE TABLE erp_push_attempts (
    id          bigserial PRIMARY KEY,
    customer_id text NOT NULL,
    version     bigint NOT NULL,
    stage       text NOT NULL,
    attempt     int NOT NULL,                            -- the save count when the step ran
    outcome     text NOT NULL,
    erp_id      bigint,
    error       text,
    duration_ms int NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erp_push_attempts_customer ON erp_push_attempts (customer_id, version);
CREATE INDEX erp_push_attempts_at ON erp_push_attempts (at);

-- One row per ERP call. Summaries never hold passwords or session tokens; phone numbers are masked.
CREATE TABLE erp_api_logs (
    id               bigserial PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    endpoint         text NOT NULL,
    operation        text NOT NULL,
    http_status      int,
    outcome          text NOT NULL,
    duration_ms      int NOT NULL,
    error            text,
    request_summary  jsonb NOT NULL DEFAULT '{}',
    response_summary jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX erp_api_logs_at ON erp_api_logs (at);

-- Paused by an operator, or stopped because the ERP rejected the credentials. The stop survives a
-- restart while the credentials stay the same (a salted scrypt fingerprint, never the password).
CREATE TABLE erp_connector_state (
    id                      int PRIMARY KEY CHECK (id = 1),
    paused                  boolean NOT NULL DEFAULT false,
    stopped_auth            boolean NOT NULL DEFAULT false,
    reason                  text,
    credentials_fingerprint text,
    changed_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO erp_connector_state (id) VALUES (1);
