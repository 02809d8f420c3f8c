-- rules (issue 8): retention deletes finished push requests by completion time; pending ones are never pruned.
CREATE INDEX sync_requests_completed_at ON sync_requests (completed_at) WHERE result IS NOT NULL;
