"""Capture and write-back against a real factory database (PostgreSQL and SQLite, same SQLAlchemy code).

No cloud here: the state store stands for what the cloud accepted. The real cloud is in tests/agent/e2e.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from rollsync_agent.capture import scan
from rollsync_agent.factory_db import LineTable, reflect
from rollsync_agent.feed import Update, write_back
from rollsync_agent.state import StateStore
from tests.support.agent_factory import create_hetong, delete_line, insert_rows, read_all, set_columns
from tests.support.generate import contract_rows

pytestmark = pytest.mark.integration


def _setup(
    url: str, tmp_path: Path, n: int = 20
) -> tuple[Engine, LineTable, StateStore, list[dict[str, object]]]:
    engine = create_engine(url)
    rows = contract_rows(n, seed=3)
    create_hetong(engine, rows)
    return engine, LineTable(reflect(engine, "hetong")), StateStore(tmp_path / "agent.state"), rows


def _accept_all(state: StateStore, engine: Engine, lines: LineTable) -> None:
    state.mark_accepted([(c.key, c.hash) for c in scan(engine, lines, state)])


def test_scan_finds_new_changed_and_vanished_lines(factory_url: str, tmp_path: Path) -> None:
    engine, lines, state, rows = _setup(factory_url, tmp_path)
    first = scan(engine, lines, state)
    assert len(first) == 20
    assert all(c.row is not None and c.known_hash is None for c in first)
    state.mark_accepted([(c.key, c.hash) for c in first])
    assert scan(engine, lines, state) == []

    keys = [(str(r["合同编号"]), str(r["产品ID"])) for r in rows]
    set_columns(engine, lines.table, keys[0], 甲方="改名后的客户")
    delete_line(engine, lines.table, keys[1])
    insert_rows(engine, lines.table, contract_rows(1, seed=99, prefix="NEW"))
    changes = {c.key: c for c in scan(engine, lines, state)}
    assert set(changes) == {keys[0], keys[1], ("NEW0000001", "P0000001001")}
    edited = changes[keys[0]].row
    assert edited is not None
    assert edited["甲方"] == "改名后的客户"
    assert changes[keys[0]].known_hash is not None
    assert changes[keys[1]].row is None  # vanished: uploaded in `deleted`


def test_a_write_back_is_not_a_local_change(factory_url: str, tmp_path: Path) -> None:
    engine, lines, state, rows = _setup(factory_url, tmp_path)
    _accept_all(state, engine, lines)
    key = (str(rows[0]["合同编号"]), str(rows[0]["产品ID"]))
    update = Update(
        key, False, {"基辊加工": "返工", "检验": "已完成"}, {"基辊加工": "返工", "检验": "已完成"}
    )

    assert write_back(engine, lines, state, update) is True
    assert read_all(engine, lines.table)[key]["基辊加工"] == "返工"
    assert scan(engine, lines, state) == []  # no echo upload
    assert write_back(engine, lines, state, update) is False  # replaying the feed page changes nothing
    assert scan(engine, lines, state) == []
    assert state.cloud_status()[key] == {"基辊加工": "返工", "检验": "已完成"}


def test_a_clerks_pending_edit_survives_a_write_back(factory_url: str, tmp_path: Path) -> None:
    engine, lines, state, rows = _setup(factory_url, tmp_path)
    _accept_all(state, engine, lines)
    key = (str(rows[0]["合同编号"]), str(rows[0]["产品ID"]))
    set_columns(engine, lines.table, key, 备注="客户改期")  # not uploaded yet
    write_back(engine, lines, state, Update(key, False, {"基辊加工": "返工"}, {"基辊加工": "返工"}))
    changes = scan(engine, lines, state)
    assert [c.key for c in changes] == [key]
    assert changes[0].row is not None
    assert (changes[0].row["备注"], changes[0].row["基辊加工"]) == ("客户改期", "返工")


def test_write_back_skips_unknown_lines_and_unmapped_processes(factory_url: str, tmp_path: Path) -> None:
    engine, lines, state, _ = _setup(factory_url, tmp_path, n=2)
    assert (
        write_back(
            engine, lines, state, Update(("NOPE", "P"), False, {"基辊加工": "已完成"}, {"基辊加工": "已完成"})
        )
        is False
    )
    assert write_back(engine, lines, state, Update(("NOPE", "P"), True, {}, {})) is False


def test_a_refused_line_waits_for_an_edit_before_it_is_sent_again(factory_url: str, tmp_path: Path) -> None:
    engine, lines, state, rows = _setup(factory_url, tmp_path, n=3)
    first = scan(engine, lines, state)
    refused, *good = first
    state.mark_accepted([(c.key, c.hash) for c in good])
    state.mark_rejected([(refused.key, refused.hash, "invalid_value", "列 甲方 不合法")])
    assert scan(engine, lines, state) == []  # not hammered every round
    set_columns(engine, lines.table, refused.key, 甲方="改好了")
    assert [c.key for c in scan(engine, lines, state)] == [refused.key]
