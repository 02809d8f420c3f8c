-- Issue 9: lines deleted at the source, and when each client last called us.

-- A deleted line keeps its key and version (the next upload of it gets a newer one); its row stays for history.
ALTER TABLE contract_lines ADD COLUMN deleted boolean NOT NULL DEFAULT false;

-- Written at most once per INGEST_LAST_SEEN_EVERY_S per client and process (never on every request);
-- read at scrape time so every replica reports the same value.
ALTER TABLE clients ADD COLUMN last_seen_at timestamptz;
