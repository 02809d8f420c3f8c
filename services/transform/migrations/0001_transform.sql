-- transform: raw copy, standardized contracts, products and their processes, progress reports, change feed.

-- Configuration kept in data: seeded from the domain defaults at first start when empty.
CREATE TABLE field_mapping (
    source   text PRIMARY KEY,          -- Chinese column name as the local system sends it
    target   text NOT NULL,
    kind     text NOT NULL CHECK (kind IN ('text', 'date', 'amount', 'quantity')),
    required boolean NOT NULL DEFAULT false
);
CREATE TABLE process_routes (
    product_type text NOT NULL,
    seq          int NOT NULL,
    process      text NOT NULL,
    weight       numeric(8, 2) NOT NULL CHECK (weight > 0),
    PRIMARY KEY (product_type, seq),
    UNIQUE (product_type, process)
);
CREATE TABLE product_type_rules (
    priority     int PRIMARY KEY,
    pattern      text NOT NULL,        -- substring of 产品名称
    product_type text NOT NULL
);

-- 1:1 copy of every line exactly as received (latest version), unknown columns included.
CREATE TABLE hetong_original (
    contract_no  text NOT NULL,
    product_id   text NOT NULL,
    version      int NOT NULL,
    row          jsonb NOT NULL,
    content_hash text NOT NULL,
    source       text NOT NULL,
    client_id    text NOT NULL,
    received_at  timestamptz NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_no, product_id)
);

CREATE TABLE contracts (
    contract_no     text NOT NULL,
    product_id      text NOT NULL,
    version         int NOT NULL,
    party_a         text,
    party_b         text,
    product_name    text,
    contract_status text,
    fields          jsonb NOT NULL,     -- every mapped field, normalised (dates ISO, amounts as text)
    extra_columns   jsonb NOT NULL,     -- columns neither mapped nor processes: kept, not dropped
    issues          jsonb NOT NULL,     -- values that could not be normalised, with the raw value
    unknown_statuses jsonb NOT NULL,    -- process column -> status word not in the vocabulary
    signed_date     date,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_no, product_id)
);
CREATE INDEX contracts_party_a ON contracts (party_a);
CREATE INDEX contracts_status ON contracts (contract_status);

CREATE TABLE products (
    contract_no         text NOT NULL,
    product_id          text NOT NULL,
    product_type        text NOT NULL,
    product_name        text,
    progress_percentage numeric(5, 1) NOT NULL,
    current_process     text,
    finished            boolean NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          text,
    PRIMARY KEY (contract_no, product_id)
);

-- Status per process: the last uploaded value and the last reported value; the newer one counts.
CREATE TABLE product_processes (
    contract_no     text NOT NULL,
    product_id      text NOT NULL,
    process         text NOT NULL,
    seq             int NOT NULL,
    uploaded_status text,
    uploaded_at     timestamptz,
    reported_status text,
    reported_at     timestamptz,
    reported_by     text,
    PRIMARY KEY (contract_no, product_id, process)
);

-- Latest report per (contract, line or '' = every line, process), kept even before the line arrives.
CREATE TABLE progress_reports (
    contract_no text NOT NULL,
    product_id  text NOT NULL,
    process     text NOT NULL,
    status      text NOT NULL,
    version     int NOT NULL,
    updated_by  text NOT NULL,
    update_time timestamptz NOT NULL,
    PRIMARY KEY (contract_no, product_id, process)
);

-- The pending-updates feed. Ordered by (txid, seq): a row becomes servable once every transaction
-- that could still commit a smaller position has finished (DELIVERY.md §8).
CREATE TABLE change_feed (
    seq                 bigserial PRIMARY KEY,
    txid                xid8 NOT NULL DEFAULT pg_current_xact_id(),
    contract_no         text NOT NULL,
    product_id          text NOT NULL,
    progress_percentage numeric(5, 1) NOT NULL,
    current_process     text,
    updated_at          timestamptz NOT NULL,
    updated_by          text NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX change_feed_position ON change_feed (txid, seq);
CREATE INDEX change_feed_updated_at ON change_feed (updated_at);
