"""The factory's `hetong` table through SQLAlchemy Core: read lines, write process status back.

Every statement is built here from reflected tables, so the same code runs on SQL Server, PostgreSQL and
SQLite (tests compile each one with the mssql dialect too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    and_,
    create_engine,
    func,
    select,
    text,
    update,
)
from sqlalchemy.exc import NoSuchTableError

from rollsync_agent.config import AgentConfig
from rollsync_agent.connstr import to_url
from rollsync_agent.rows import CONTRACT_NO, PRODUCT_ID, Key, Row


class SchemaProblemError(RuntimeError):
    """The table is missing or lacks a column the agent needs."""


def open_engine(config: AgentConfig) -> Engine:
    return create_engine(to_url(config.database.connection_string), pool_pre_ping=True)


def reflect(engine: Engine, name: str) -> Table:
    try:
        return Table(name, MetaData(), autoload_with=engine)
    except NoSuchTableError as exc:
        raise SchemaProblemError(f"table {name} does not exist (or this login cannot see it)") from exc


@dataclass
class LineTable:
    """The sync table, with the key columns checked."""

    table: Table

    def __post_init__(self) -> None:
        missing = [c for c in (CONTRACT_NO, PRODUCT_ID) if c not in self.table.c]
        if missing:
            raise SchemaProblemError(f"table {self.table.name} has no column {', '.join(missing)}")

    @property
    def columns(self) -> set[str]:
        return {c.name for c in self.table.c}

    def col(self, name: str) -> Column[Any]:
        return self.table.c[name]

    def where_key(self, key: Key) -> Any:
        return and_(self.col(CONTRACT_NO) == key[0], self.col(PRODUCT_ID) == key[1])

    def select_all(self) -> Any:
        return select(self.table).order_by(self.col(CONTRACT_NO), self.col(PRODUCT_ID))

    def select_line(self, key: Key) -> Any:
        return select(self.table).where(self.where_key(key))

    def lock_line(self, key: Key) -> Any:
        """Read a line for update: FOR UPDATE on PostgreSQL, a row lock hint on SQL Server (SQLAlchemy's
        mssql dialect drops FOR UPDATE silently), nothing on SQLite (one writer at a time anyway)."""
        stmt = self.select_line(key).with_for_update()
        return stmt.with_hint(self.table, "WITH (UPDLOCK, ROWLOCK)", dialect_name="mssql")

    def set_values(self, key: Key, values: Mapping[str, Any]) -> Any:
        return (
            update(self.table).where(self.where_key(key)).values({self.col(k): v for k, v in values.items()})
        )


def load_table(engine: Engine, config: AgentConfig) -> LineTable:
    return LineTable(reflect(engine, config.database.sync_table_name))


def count_rows(engine: Engine, lines: LineTable) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(lines.table)).scalar_one())


def iter_rows(engine: Engine, lines: LineTable, chunk: int = 1000) -> Iterator[Row]:
    """Every line, streamed (a 50 000-line table must not sit in memory twice)."""
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=chunk).execute(lines.select_all())
        columns = list(result.keys())
        for r in result:
            yield dict(zip(columns, r, strict=True))


def read_line(engine: Engine, lines: LineTable, key: Key) -> Row | None:
    with engine.connect() as conn:
        r = conn.execute(lines.select_line(key)).mappings().first()
    return dict(r) if r else None


def mark_agent_session(conn: Connection) -> None:
    """Tell the queue trigger that this transaction's writes are the agent's own (see installsql)."""
    name = conn.dialect.name
    if name == "mssql":
        conn.execute(text("EXEC sp_set_session_context @key = N'rollsync_agent', @value = 1"))
    elif name == "postgresql":
        conn.execute(text("SELECT set_config('rollsync.agent', '1', true)"))
