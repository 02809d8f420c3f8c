-- The operator's UPDATE of 0062 runs with any search_path (`UPDATE rules.customers_unified …` from a psql session
-- without `rules` on it failed: relation "resync_requests" does not exist): the queue is named by the trigger's
-- own table schema.
CREATE OR REPLACE FUNCTION queue_operator_resync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO %I.resync_requests (customer_id) VALUES ($1)', TG_TABLE_SCHEMA) USING NEW.id;
    RETURN NULL;
END $$;
