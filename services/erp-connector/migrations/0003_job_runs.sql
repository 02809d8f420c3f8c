-- erp (issue 8): when each scheduled job last started, so a restart keeps the schedule. Without it
-- the next run was always "start-up + interval", and a pod restarted more often than that never ran.
CREATE TABLE erp_job_runs (
    job             text PRIMARY KEY,                    -- pull / push / prune
    scheduled_since timestamptz NOT NULL DEFAULT now(),  -- first time any replica scheduled it
    last_started_at timestamptz                          -- the last run (scheduled or triggered)
);
