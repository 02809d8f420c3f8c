-- Issue 14: employees uploaded before ingest.employee-changed.v1 existed are published once, at the next start.
ALTER TABLE employees ADD COLUMN announced boolean NOT NULL DEFAULT false;
