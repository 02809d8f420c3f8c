"""Fakes for the common unit-of-work shape: handler tests on these need no database (STYLE.md §7).

A service's fake unit of work subclasses `FakeUnitOfWork` and adds in-memory repositories that implement the
service's ports. Like the real one, it keeps nothing a handler did not `commit()`: tests assert on
`committed` and on `outbox.published`, which only holds the events of committed work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from common.events.envelope import Envelope


@dataclass(frozen=True, slots=True)
class Published:
    topic: str
    key: str
    envelope: Envelope[Any]


class FakeOutbox:
    def __init__(self) -> None:
        self.pending: list[Published] = []
        self.published: list[Published] = []

    def add(self, topic: str, key: str, envelope: Envelope[Any]) -> None:
        self.pending.append(Published(topic, key, envelope))

    def payloads(self, topic: str) -> list[Any]:
        return [p.envelope.payload for p in self.published if p.topic == topic]


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.outbox = FakeOutbox()
        self.committed = 0

    async def commit(self) -> None:
        self.outbox.published += self.outbox.pending
        self.outbox.pending = []
        self.committed += 1

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.outbox.pending = []  # what was not committed is rolled back
