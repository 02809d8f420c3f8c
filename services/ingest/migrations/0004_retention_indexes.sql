-- ingest (issue 8): retention deletes rate counters by window start; the primary key leads with the bucket.
CREATE INDEX rate_counters_window_start ON rate_counters (window_start);
