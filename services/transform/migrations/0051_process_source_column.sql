-- Issue 14: the column a line used for a process, as the local system names it (an alias, a former name).
-- The feed's `processes` carries it as `column` when it differs, so the agent writes the status back there.
ALTER TABLE product_processes ADD COLUMN source_column text;
