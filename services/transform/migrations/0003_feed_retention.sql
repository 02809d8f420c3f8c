-- transform (issue 8): retention of the pending-updates feed and the indexes its reads need.

-- The timestamp `since` path (feed.position_before) and retention's age test.
CREATE INDEX change_feed_recorded_at ON change_feed (recorded_at);
-- "Is there a newer change of this line?" (retention keeps each line's newest change forever, so a client that
-- re-syncs from the start still gets every line's current state) is answered by 0002's change_feed_line index.

-- What retention has removed so far: the highest position pruned and the latest time any pruned change
-- carried. A cursor before that position, or a timestamp `since` at or before that time, may have missed a
-- pruned change, so it is answered 410 cursor_expired instead of a page with a silent gap.
CREATE TABLE change_feed_horizon (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    txid      xid8 NOT NULL,
    seq       bigint NOT NULL,
    latest_at timestamptz NOT NULL,              -- max(greatest(updated_at, recorded_at)) of pruned rows
    pruned_at timestamptz NOT NULL DEFAULT now()
);

-- In the deleting transaction itself, whoever deletes: a reader sees the rows or the horizon, never neither.
-- The schema is fixed at creation, so a delete from a session with another search_path finds the horizon too.
CREATE FUNCTION change_feed_horizon_advance() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO change_feed_horizon AS h (txid, seq, latest_at)
    SELECT g.txid, g.seq, (SELECT max(greatest(updated_at, recorded_at)) FROM gone)
    FROM gone g ORDER BY g.txid DESC, g.seq DESC LIMIT 1
    ON CONFLICT (singleton) DO UPDATE SET
        txid = CASE WHEN (excluded.txid, excluded.seq) > (h.txid, h.seq) THEN excluded.txid ELSE h.txid END,
        seq = CASE WHEN (excluded.txid, excluded.seq) > (h.txid, h.seq) THEN excluded.seq ELSE h.seq END,
        latest_at = greatest(h.latest_at, excluded.latest_at),
        pruned_at = now();
    RETURN NULL;
END $$;

CREATE TRIGGER change_feed_pruned AFTER DELETE ON change_feed
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION change_feed_horizon_advance();
