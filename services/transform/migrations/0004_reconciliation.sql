-- Issue 9: the latest reconciliation of each local agent's digest against the cloud's lines.
CREATE TABLE reconciliations (
    client_id        text PRIMARY KEY,
    checked_at       timestamptz NOT NULL,      -- when the digest was received and compared
    complete         boolean NOT NULL,          -- the digest covered the whole local table
    checked          int NOT NULL,
    missing_in_cloud jsonb NOT NULL,            -- [合同编号, ...]
    missing_locally  jsonb NOT NULL,
    different        jsonb NOT NULL
);
