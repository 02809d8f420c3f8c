-- Issue 12 (G7 during an import): feed positions in commit order.
--
-- Rows were ordered by (txid, seq) and served only below the oldest running transaction that could write
-- change_feed. An import batch holds its xid from its inbox row to its commit, so every report committed in
-- the meantime waited for the batch (p99 11x the raw chain). Now every statement that inserts into change_feed
-- first takes one transaction-scoped advisory lock, held until commit: feed writers insert one at a time, so a
-- row's seq is larger than every committed row's, and a snapshot that sees a row sees every row before it.
-- Writers keep the lock only from their feed insert to their commit: the service writes the feed last
-- (transform.adapters.unit_of_work). PostgreSQL makes a commit visible before it releases the lock.
--
-- New rows share one txid above any real one, so (txid, seq) still orders old rows before new ones and a
-- cursor issued before this migration keeps its place. This ALTER waits for every transaction that touched
-- change_feed to end, so no row with a real txid can commit after it.
CREATE FUNCTION change_feed_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The two-int form: a key space apart from the bigint contract and catalogue locks (adapters.locks).
    PERFORM pg_advisory_xact_lock(1920229222, 1);
    RETURN NULL;
END $$;

CREATE TRIGGER change_feed_in_commit_order BEFORE INSERT ON change_feed
    FOR EACH STATEMENT EXECUTE FUNCTION change_feed_commit_order();

ALTER TABLE change_feed ALTER COLUMN txid SET DEFAULT '4611686018427387904'::xid8;  -- 2^62
-- One value at a time (the bigserial default, made explicit): a session-cached range would hand out seqs
-- out of commit order.
ALTER SEQUENCE change_feed_seq_seq CACHE 1;
