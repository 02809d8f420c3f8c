"""erp_sync_rules, erp_sync_config, field_policies, their version and their audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from rules.adapters.codec import dumps

if TYPE_CHECKING:
    import asyncpg

    from rules.domain.rule_parsing import Snapshot

_ALL_RULES = """SELECT rule_name, rule_priority, position, rule_conditions, rule_action, reason_template,
    confidence, gate_exempt, is_active, description, updated_at, updated_by
    FROM erp_sync_rules ORDER BY rule_priority DESC, position, rule_name"""
_ONE_RULE = """SELECT rule_name, rule_priority, position, rule_conditions, rule_action, reason_template,
    confidence, gate_exempt, is_active, description, updated_at, updated_by
    FROM erp_sync_rules WHERE rule_name = $1 FOR UPDATE"""


async def version(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    return int(await conn.fetchval("SELECT version FROM rulebook_version"))


def rule_row(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "name": r["rule_name"],
        "priority": r["rule_priority"],
        "position": r["position"],
        "conditions": orjson.loads(r["rule_conditions"]),
        "action": r["rule_action"],
        "reason": r["reason_template"],
        "confidence": float(r["confidence"]) if r["confidence"] is not None else None,
        "gate_exempt": r["gate_exempt"],
        "enabled": bool(r["is_active"]),  # smallint 0/1, the seed's form (0060)
        "description": r["description"],
        "updated_at": r["updated_at"].isoformat(),
        "updated_by": r["updated_by"],
    }


async def load(conn: asyncpg.Connection) -> Snapshot:
    """(version, rules, config, field policies), read in one snapshot."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        ver = await version(conn)
        rules = [rule_row(r) for r in await conn.fetch(_ALL_RULES)]
        config = {
            r["config_key"]: orjson.loads(r["config_value"])
            for r in await conn.fetch("SELECT config_key, config_value FROM erp_sync_config")
        }
        policies = {
            r["field_name"]: r["strategy"]
            for r in await conn.fetch("SELECT field_name, strategy FROM field_policies")
        }
    return ver, rules, config, policies


class PostgresRuleStore:
    """Rule, config and field-policy edits, each locked for its transaction and audited."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def rule(self, name: str) -> dict[str, Any] | None:
        """One rule, locked until the caller's transaction ends."""
        r = await self._conn.fetchrow(_ONE_RULE, name)
        return rule_row(r) if r else None

    async def write_rule(self, new: dict[str, Any], who: str) -> None:
        await self._conn.execute(
            """INSERT INTO erp_sync_rules AS r (rule_name, rule_priority, position, rule_conditions, rule_action,
                 reason_template, confidence, gate_exempt, is_active, description, updated_at, updated_by)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, now(), $11)
               ON CONFLICT (rule_name) DO UPDATE SET rule_priority = excluded.rule_priority,
                 position = excluded.position, rule_conditions = excluded.rule_conditions,
                 rule_action = excluded.rule_action, reason_template = excluded.reason_template,
                 confidence = excluded.confidence, gate_exempt = excluded.gate_exempt, is_active = excluded.is_active,
                 description = excluded.description, updated_at = now(), updated_by = excluded.updated_by""",
            new["name"],
            new["priority"],
            new["position"],
            dumps(new["conditions"]),
            new["action"],
            new["reason"],
            new["confidence"],
            new["gate_exempt"],
            int(new["enabled"]),
            new["description"],
            who,
        )

    async def config_value(self, key: str) -> tuple[bool, Any]:
        raw = await self._conn.fetchval(
            "SELECT config_value FROM erp_sync_config WHERE config_key = $1 FOR UPDATE", key
        )
        return (raw is not None, orjson.loads(raw) if raw is not None else None)

    async def write_config(self, key: str, value: Any, description: str, who: str) -> None:
        await self._conn.execute(
            """INSERT INTO erp_sync_config (config_key, config_value, description, updated_by) VALUES ($1, $2::jsonb, $3, $4)
               ON CONFLICT (config_key) DO UPDATE SET config_value = excluded.config_value, updated_at = now(),
                 updated_by = excluded.updated_by""",
            key,
            dumps(value),
            description,
            who,
        )

    async def policy(self, field: str) -> str | None:
        value = await self._conn.fetchval(
            "SELECT strategy FROM field_policies WHERE field_name = $1 FOR UPDATE", field
        )
        return str(value) if value is not None else None

    async def write_policy(self, field: str, strategy: str, who: str) -> None:
        await self._conn.execute(
            """INSERT INTO field_policies (field_name, strategy, updated_by) VALUES ($1, $2, $3)
               ON CONFLICT (field_name) DO UPDATE SET strategy = excluded.strategy, updated_at = now(),
                 updated_by = excluded.updated_by""",
            field,
            strategy,
            who,
        )

    async def audit(self, entity: str, key: str, old: Any, new: Any, who: str) -> None:
        await self._conn.execute(
            """INSERT INTO rules_audit (entity, entity_key, old_value, new_value, changed_by)
               VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)""",
            entity,
            key,
            dumps(old),
            dumps(new),
            who,
        )


class PostgresRuleSource:
    """Rule books from the tables (`RuleBookCache` asks for the version on every use)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def version(self) -> int:
        return await version(self._pool)

    async def load(self) -> Snapshot:
        async with self._pool.acquire() as conn:
            return await load(conn)


async def audit_trail(conn: asyncpg.Pool, limit: int, before: int | None) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT id, entity, entity_key, old_value, new_value, changed_by, changed_at FROM rules_audit
           WHERE $2::bigint IS NULL OR id < $2 ORDER BY id DESC LIMIT $1""",
        limit,
        before,
    )
    return [
        {
            "id": r["id"],
            "entity": r["entity"],
            "key": r["entity_key"],
            "old": orjson.loads(r["old_value"]),
            "new": orjson.loads(r["new_value"]),
            "changed_by": r["changed_by"],
            "changed_at": r["changed_at"].isoformat(),
        }
        for r in rows
    ]
