-- Issue 8 (lost work, client clocks) and issue 9 (deleted lines, full process state in the feed).

-- A deleted line keeps its raw row as a tombstone: the version guard still needs its version.
ALTER TABLE hetong_original ADD COLUMN deleted boolean NOT NULL DEFAULT false;

-- Who uploaded a process value, and when ingest received the report that holds it: the who-wins rule compares
-- server receive times on both sides (reported_at stays the worker's own update_time, for display).
ALTER TABLE product_processes ADD COLUMN uploaded_by text, ADD COLUMN report_received_at timestamptz;
UPDATE product_processes pp SET uploaded_by = h.client_id
FROM hetong_original h
WHERE h.contract_no = pp.contract_no AND h.product_id = pp.product_id AND pp.uploaded_status IS NOT NULL;
UPDATE product_processes SET report_received_at = reported_at WHERE reported_at IS NOT NULL;

ALTER TABLE progress_reports ADD COLUMN received_at timestamptz;
UPDATE progress_reports SET received_at = update_time;
ALTER TABLE progress_reports ALTER COLUMN received_at SET NOT NULL;

-- Feed items carry the line's full effective process state and whether it was deleted.
ALTER TABLE change_feed
    ADD COLUMN deleted boolean NOT NULL DEFAULT false,
    ADD COLUMN processes jsonb NOT NULL DEFAULT '{}';
CREATE INDEX change_feed_line ON change_feed (contract_no, product_id, recorded_at);

-- Every line version the lines consumer took from Kafka, superseded ones included: the consistency report
-- compares it with what was materialised (a line accepted by ingest but absent here).
CREATE TABLE line_receipts (
    contract_no text NOT NULL,
    product_id  text NOT NULL,
    version     int NOT NULL,
    deleted     boolean NOT NULL,
    consumed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_no, product_id)
);
INSERT INTO line_receipts (contract_no, product_id, version, deleted)
SELECT contract_no, product_id, version, false FROM hetong_original;
