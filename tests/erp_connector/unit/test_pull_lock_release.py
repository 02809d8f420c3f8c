"""Pooled sessions are not reset on release (common.db), so a pull lock that cannot be unlocked ends its session."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from erp_connector.adapters.hashes import _unlock


class Session:
    def __init__(self, error: BaseException | None) -> None:
        self.error, self.terminated, self.statements = error, False, list[str]()

    async def execute(self, sql: str, *args: Any) -> str:
        self.statements.append(sql)
        if self.error is not None:
            raise self.error
        return "SELECT 1"

    def terminate(self) -> None:
        self.terminated = True


async def test_an_unlocked_session_goes_back_to_the_pool() -> None:
    session = Session(None)
    await _unlock(session)
    assert session.statements == ["SELECT pg_advisory_unlock($1)"]
    assert not session.terminated


@pytest.mark.parametrize("error", [asyncio.CancelledError(), ConnectionResetError("gone")])
async def test_a_session_that_may_still_hold_the_lock_is_ended(error: BaseException) -> None:
    session = Session(error)
    with pytest.raises(type(error)):
        await _unlock(session)
    assert session.terminated
