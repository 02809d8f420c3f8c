"""transform's one Postgres schema (STYLE.md §3.1): migrations, search_path, inbox and outbox all use it."""

SCHEMA = "transform"
