-- ingest: clients, tokens' rate counters, idempotency keys, received contract lines, progress state.

CREATE TABLE clients (
    client_id       text PRIMARY KEY,
    name            text NOT NULL DEFAULT '',
    secret_hash     text NOT NULL,                 -- sha256 of a 256-bit random secret; never the secret
    scopes          text[] NOT NULL,
    disabled        boolean NOT NULL DEFAULT false,
    rate_per_minute int NOT NULL DEFAULT 60,
    rate_per_day    int NOT NULL DEFAULT 10000,
    created_at      timestamptz NOT NULL DEFAULT now(),
    rotated_at      timestamptz
);

-- Fixed-window counters shared by every ingest replica.
CREATE TABLE rate_counters (
    bucket       text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         int NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

CREATE TABLE idempotency (
    client_id    text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       int NOT NULL,
    response     bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_created_at ON idempotency (created_at);

CREATE TABLE contract_lines (
    contract_no  text NOT NULL,
    product_id   text NOT NULL,
    content_hash text NOT NULL,
    version      int NOT NULL,
    row          jsonb NOT NULL,
    source       text NOT NULL,
    client_id    text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_no, product_id)
);

-- Latest reported status per (contract, line or '' for the whole contract, process).
CREATE TABLE progress_state (
    contract_no text NOT NULL,
    product_id  text NOT NULL DEFAULT '',
    process     text NOT NULL,
    status      text NOT NULL,
    version     int NOT NULL,
    updated_by  text NOT NULL,
    update_time timestamptz NOT NULL,
    PRIMARY KEY (contract_no, product_id, process)
);

-- Process columns the mini-program may report; a new one is a row here, not a code change.
CREATE TABLE known_processes (name text PRIMARY KEY);
INSERT INTO known_processes (name) VALUES
  ('基辊加工'), ('动平衡'), ('退铬退铜'), ('镀镍'), ('镀铜'), ('磨铜抛光'), ('雕刻'), ('打样'),
  ('镀铬'), ('喷砂'), ('热喷涂'), ('陶瓷磨削'), ('抛光'), ('检验'), ('包装发货');
