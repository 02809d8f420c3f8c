-- Seed 000: the local system owns the employee list; ingest keeps the copy uploaded under `employees:write`.
CREATE TABLE employees (
    employee_no text PRIMARY KEY,
    name        text NOT NULL,
    workshop    text NOT NULL DEFAULT '',
    processes   text[] NOT NULL DEFAULT '{}',  -- the processes this person may report
    active      boolean NOT NULL DEFAULT true,
    client_id   text NOT NULL,                 -- the client that uploaded the current version
    updated_at  timestamptz NOT NULL DEFAULT now()
);
