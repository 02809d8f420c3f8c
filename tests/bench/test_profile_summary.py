"""bench/profile_import.summarise: py-spy's collapsed stacks into the parts the profile reports."""

from __future__ import annotations

from pathlib import Path

from bench.profile_import import summarise

PARTS = {"SQL": ("execute", "copy_records_to_table"), "hash": ("content_hash",)}


def test_qualified_method_names_count_towards_their_part(tmp_path: Path) -> None:
    stacks = tmp_path / "ingest.txt"
    stacks.write_text(
        "Runner.run (asyncio/runners.py:118);Connection.execute (asyncpg/connection.py:349) 3\n"
        "Runner.run (asyncio/runners.py:118);content_hash (ingest/domain/lines.py:60);"
        "dumps (json/__init__.py:238) 1\n"
        "Runner.run (asyncio/runners.py:118) 4\n"
    )
    total, shares, top = summarise(stacks, PARTS)
    assert total == 8
    assert shares == {"SQL": 3 / 8, "hash": 1 / 8}
    assert top[0].endswith("Runner.run (asyncio/runners.py:118)")
