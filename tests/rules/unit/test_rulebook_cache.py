"""Every replica picks up a rule change at its next evaluation: one version check per use, no restart."""

from typing import Any

from rules.domain.default_rules import DEFAULT_RULES
from rules.domain.rule_parsing import Snapshot, rule_dict
from rules.service_layer.rulebook_cache import RuleBookCache


class FakeRuleSource:
    def __init__(self) -> None:
        self.rules: list[dict[str, Any]] = [rule_dict(r) for r in DEFAULT_RULES]
        self.config: dict[str, Any] = {}
        self.current = 1
        self.version_checks = 0

    def bump(self) -> None:
        self.current += 1

    async def version(self) -> int:
        self.version_checks += 1
        return self.current

    async def load(self) -> Snapshot:
        return self.current, [dict(r) for r in self.rules], dict(self.config), {}


async def test_the_book_is_loaded_once_while_the_version_stays() -> None:
    source = FakeRuleSource()
    cache = RuleBookCache(source)
    first = await cache.get()
    second = await cache.get()
    assert first is second
    assert (cache.loads, source.version_checks) == (1, 2)


async def test_a_new_version_is_loaded_at_the_next_use() -> None:
    source = FakeRuleSource()
    replica_a, replica_b = RuleBookCache(source), RuleBookCache(source)
    assert (await replica_a.get()).config["min_score_for_sync"] == 60
    assert (await replica_b.get()).config["min_score_for_sync"] == 60
    source.config["min_score_for_sync"] = 70
    source.rules = [r for r in source.rules if r["name"] != "low_engagement"]
    source.bump()
    for replica in (replica_a, replica_b):
        book = await replica.get()
        assert book.version == 2
        assert book.config["min_score_for_sync"] == 70
        assert "low_engagement" not in {r.name for r in book.rules}


async def test_a_broken_row_is_reported_and_the_rest_still_applies() -> None:
    source = FakeRuleSource()
    source.rules.append({"name": "broken", "action": "maybe", "reason": "r"})
    cache = RuleBookCache(source)
    book = await cache.get()
    assert len(book.rules) == len(DEFAULT_RULES)
    assert cache.problems and "broken" in cache.problems[0]
