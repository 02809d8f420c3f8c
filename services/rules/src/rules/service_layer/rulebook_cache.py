"""The rule book every evaluation uses: rules, config and field policies from the tables.

Each use checks one number (`rulebook_version`, bumped by a trigger on every write), so a change made on
any replica, through the admin API or by hand in SQL, is in force at the next evaluation everywhere.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rules.domain.rule_parsing import build_book

if TYPE_CHECKING:
    from rules.domain.rulebook import RuleBook
    from rules.service_layer.ports import AbstractRuleSource

log = logging.getLogger(__name__)


class RuleBookCache:
    def __init__(self, source: AbstractRuleSource) -> None:
        self._source = source
        self._book: RuleBook | None = None
        self.problems: list[str] = []
        self.loads = 0

    async def get(self) -> RuleBook:
        current = await self._source.version()
        if self._book is None or self._book.version != current:
            version, rules, config, policies = await self._source.load()
            self._book, self.problems = build_book(version, rules, config, policies)
            self.loads += 1
            for problem in self.problems:
                log.error("rule book: %s (left out)", problem, extra={"rulebook_version": version})
        return self._book
