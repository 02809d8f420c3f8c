"""Tables and statements of the hand-written baseline service (bench/baselines/raw_service.py).

The same shapes ingest and transform write: a line table with content hash and version, an idempotency record,
an outbox, a progress row and a feed. Created in a `bench_raw` schema of the project database.
"""

from __future__ import annotations

SCHEMA = "bench_raw"

CREATE = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
CREATE TABLE {SCHEMA}.lines (contract_no text NOT NULL, product_id text NOT NULL, content_hash text NOT NULL,
  version int NOT NULL, row jsonb NOT NULL, source text NOT NULL, client_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(), deleted boolean NOT NULL DEFAULT false,
  PRIMARY KEY (contract_no, product_id));
CREATE TABLE {SCHEMA}.idempotency (client_id text NOT NULL, key text NOT NULL, request_hash text NOT NULL,
  status int NOT NULL, response bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, key));
CREATE TABLE {SCHEMA}.outbox (id uuid PRIMARY KEY, topic text NOT NULL, key text NOT NULL, payload bytea NOT NULL,
  headers jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz);
CREATE TABLE {SCHEMA}.progress (contract_no text NOT NULL, process text NOT NULL, status text NOT NULL,
  updated_by text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (contract_no, process));
CREATE TABLE {SCHEMA}.feed (id bigserial PRIMARY KEY, contract_no text NOT NULL, status text NOT NULL,
  updated_by text NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE {SCHEMA}.inbox (event_id uuid PRIMARY KEY);
"""

EXISTING = f"""SELECT l.contract_no, l.product_id, l.content_hash FROM {SCHEMA}.lines l
  JOIN unnest($1::text[], $2::text[]) AS k(c, p) ON l.contract_no = k.c AND l.product_id = k.p"""

UPSERT = f"""INSERT INTO {SCHEMA}.lines AS l (contract_no, product_id, content_hash, version, row, source, client_id)
  SELECT c, p, h, 1, r::jsonb, $5, $6 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS t(c, p, h, r)
  ON CONFLICT (contract_no, product_id) DO UPDATE
    SET content_hash = excluded.content_hash, version = l.version + 1, row = excluded.row,
        source = excluded.source, client_id = excluded.client_id, received_at = now(), deleted = false
    WHERE l.deleted OR ($7 AND l.content_hash <> excluded.content_hash)
  RETURNING contract_no, product_id, version"""

LOCK_KEY = "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))"
STORED = f"SELECT request_hash, response FROM {SCHEMA}.idempotency WHERE client_id = $1 AND key = $2"
STORE = f"INSERT INTO {SCHEMA}.idempotency (client_id, key, request_hash, status, response) VALUES ($1,$2,$3,200,$4)"
OUTBOX_COLUMNS = ("id", "topic", "key", "payload", "headers")

SAVE_PROGRESS = f"""INSERT INTO {SCHEMA}.progress (contract_no, process, status, updated_by) VALUES ($1, $2, $3, $4)
  ON CONFLICT (contract_no, process) DO UPDATE SET status = excluded.status, updated_by = excluded.updated_by,
  updated_at = now()"""
CLAIM = f"INSERT INTO {SCHEMA}.inbox (event_id) SELECT * FROM unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id"
APPEND_FEED = f"""INSERT INTO {SCHEMA}.feed (contract_no, status, updated_by)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"""
READ_FEED = (
    f"SELECT id, contract_no, status, updated_by FROM {SCHEMA}.feed WHERE id > $1 ORDER BY id LIMIT $2"
)
