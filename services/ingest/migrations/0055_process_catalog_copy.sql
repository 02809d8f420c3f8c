-- Issue 14: transform owns the process catalogue (transform migration 0050, /processes API). ingest keeps a
-- copy, fed by transform.process-changed.v1 (per-process version: only a higher one is applied), to check and
-- name the processes of progress reports. It replaces known_processes, which only SQL could change.
CREATE TABLE process_catalog (
    process_id   bigint PRIMARY KEY,
    name         text NOT NULL,
    aliases      text[] NOT NULL DEFAULT '{}',
    former_names text[] NOT NULL DEFAULT '{}',
    active       boolean NOT NULL DEFAULT true,
    version      int NOT NULL,          -- 0: copied here by this migration, before transform's first event
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- The ids transform's migration gives DOMAIN.md §2's columns; a name added here by hand keeps being accepted
-- under a negative id (transform never hands those out) until it is added through the API.
INSERT INTO process_catalog (process_id, name, version)
SELECT coalesce(seed.id, -row_number() OVER (ORDER BY k.name)), k.name, 0
FROM known_processes k LEFT JOIN (VALUES
  (1, '基辊加工'), (2, '动平衡'), (3, '退铬退铜'), (4, '镀镍'), (5, '镀铜'), (6, '磨铜抛光'), (7, '雕刻'),
  (8, '打样'), (9, '镀铬'), (10, '喷砂'), (11, '热喷涂'), (12, '陶瓷磨削'), (13, '抛光'), (14, '检验'),
  (15, '包装发货')) AS seed(id, name) USING (name);
DROP TABLE known_processes;

-- Seed 000's employee list travels to transform (my queue) as ingest.employee-changed.v1, versioned per number.
ALTER TABLE employees ADD COLUMN version int NOT NULL DEFAULT 1;
