"""The one Postgres schema erp-connector owns (STYLE.md §3.1)."""

SCHEMA = "erp"
