"""`check`'s database lines on a real PostgreSQL: missing table, missing key column, no permission."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from rollsync_agent.check import check_database
from rollsync_agent.config import load_config
from tests.support.agent_factory import create_hetong, write_config

pytestmark = pytest.mark.integration


def _check(tmp_path: Path, url: str) -> list[str]:
    return check_database(load_config(write_config(tmp_path / "SyncConfig.json", "http://x", "c", "s", url)))


def test_each_database_problem_is_one_clear_line(pg_factory_url: str, tmp_path: Path) -> None:
    assert _check(tmp_path, pg_factory_url) == [
        "database: table hetong does not exist (or this login cannot see it)"
    ]
    engine = create_engine(pg_factory_url)
    with engine.begin() as conn:
        conn.execute(text('CREATE TABLE hetong ("合同编号" text, "甲方" text)'))
    assert _check(tmp_path, pg_factory_url) == ["database: table hetong has no column 产品ID"]
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE hetong"))
    create_hetong(engine)
    assert _check(tmp_path, pg_factory_url) == []

    role = f"clerk_{uuid.uuid4().hex[:8]}"
    plain = pg_factory_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    try:
        no_rights = pg_factory_url.replace("rollsync_admin@", f"{role}@")
        [line] = _check(tmp_path, no_rights)
        assert line.startswith("database: cannot read it (") and "permission denied" in line
    finally:
        engine.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
