-- Seed 004 Q3 in the seed's form: `UPDATE customers_unified SET erp_sync_status = 'pending' WHERE id = …` asks for
-- a re-sync. The service itself sets 'pending' only together with a new sync_version (a push request); a change of
-- the status alone, to 'pending', is an operator's request: it is queued here and rules works it off like
-- POST /customers/{id}/resync (service_layer/resync.py), within RULES_RESYNC_POLL_S.
CREATE TABLE resync_requests (
    id           bigserial PRIMARY KEY,
    customer_id  text NOT NULL REFERENCES customers_unified (id),
    requested_by text NOT NULL DEFAULT current_user,
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION queue_operator_resync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO resync_requests (customer_id) VALUES (NEW.id);
    RETURN NULL;
END $$;

CREATE TRIGGER customers_unified_operator_resync AFTER UPDATE OF erp_sync_status ON customers_unified
    FOR EACH ROW
    WHEN (NEW.erp_sync_status = 'pending' AND OLD.erp_sync_status <> 'pending'
          AND NEW.sync_version = OLD.sync_version)
    EXECUTE FUNCTION queue_operator_resync();
