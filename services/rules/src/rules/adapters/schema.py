"""The one PostgreSQL schema rules owns (STYLE.md §3.1): the runtime, the outbox and every repository use it."""

from __future__ import annotations

SCHEMA = "rules"
