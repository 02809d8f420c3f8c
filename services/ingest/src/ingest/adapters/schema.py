"""ingest's one PostgreSQL schema (the pool's search_path, the outbox and inbox tables)."""

SCHEMA = "ingest"
