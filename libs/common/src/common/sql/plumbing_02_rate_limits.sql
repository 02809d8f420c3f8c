-- Per-client request limits of the shared request path (common.rate_limit, issue 10).
-- A separate file: plumbing.sql is checksummed where it was applied.

-- Fixed-window hit counters shared by every replica of the service (one row per bucket and window).
CREATE TABLE IF NOT EXISTS rate_limit_hits (
    bucket       text NOT NULL,                  -- e.g. client:<id>:minute, login-source:<ip>:minute
    window_start timestamptz NOT NULL,
    hits         int NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
-- Retention (common.retention) deletes windows by age.
CREATE INDEX IF NOT EXISTS rate_limit_hits_window_start ON rate_limit_hits (window_start);
