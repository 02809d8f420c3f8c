"""customers_unified and what hangs off it: history, decisions, push requests, sync log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import orjson

from rules.adapters.codec import dump_fields, dumps, load_fields
from rules.domain.customer import Customer, SyncState

if TYPE_CHECKING:
    import uuid

    import asyncpg

    from rules.domain.merge import Change
    from rules.domain.record import CustomerRecord
    from rules.domain.sync import Plan

_COLUMNS = """id, code, erp_customer_id, wechat_id, provenance, contract_linked, capture_version,
    erp_sync_status, sync_version, push_result_version, requested_fields"""
# Lookups by identity; the WHERE clauses are constants, never built from input.
_BY: Final = {
    "id": "id = $1",
    "wechat_id": "wechat_id = $1",
    "erp_customer_id": "erp_customer_id = $1",
    "code": "code = $1",
    "phone": "phone = $1",
    "name_key": "name_key = $1",
    "wechat_id_without_erp": "wechat_id = $1 AND erp_customer_id IS NULL",
    "name_key_without_erp": "name_key = $1 AND erp_customer_id IS NULL",
    "name_key_without_wechat": "name_key = $1 AND wechat_id IS NULL",
}

IDENTITY_LOCKS: Final = 0x72756C65  # "rule": the advisory-lock class of customer identity keys


def customer_of(row: asyncpg.Record) -> Customer:
    return Customer(
        id=row["id"],
        code=row["code"],
        fields=load_fields(row["provenance"]),
        wechat_id=row["wechat_id"],
        erp_customer_id=row["erp_customer_id"],
        contract_linked=row["contract_linked"],
        capture_version=row["capture_version"],
        sync=SyncState(
            row["erp_sync_status"],
            row["sync_version"],
            row["push_result_version"],
            orjson.loads(row["requested_fields"]),
        ),
    )


class PostgresCustomerRepository:
    """customers_unified and what hangs off it: history, decisions, push requests, sync log."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def find(self, by: str, value: object, *, lock: bool = True) -> Customer | None:
        """The customer with that identity (locked for this transaction), the oldest one if several match."""
        lock_clause = " FOR UPDATE" if lock else ""
        row = await self._conn.fetchrow(
            f"SELECT {_COLUMNS} FROM customers_unified WHERE {_BY[by]} ORDER BY created_at, id LIMIT 1{lock_clause}",  # noqa: S608 - constants
            value,
        )
        return customer_of(row) if row else None

    async def lock_identities(self, keys: set[str]) -> None:
        """Hold, until this transaction ends, a lock per identity key (company name key, WeChat id) a batch
        may match on or create a customer under. Matching reads committed rows only, so without it a capture
        and a pull of one new company, in two transactions, would each find nothing and each insert.
        `name_key` cannot be unique (two WeChat contacts of one company are two customers), hence a lock.
        Taken in one statement in hash order, so two batches never wait for each other crosswise."""
        if keys:
            await self._conn.execute(
                """SELECT pg_advisory_xact_lock($1, h)
                   FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS s""",
                IDENTITY_LOCKS,
                sorted(keys),
            )

    async def next_code(self) -> str:
        return f"KH-{await self._conn.fetchval('SELECT nextval($1::regclass)', 'customer_code_seq'):06d}"

    async def save(self, r: CustomerRecord) -> None:
        await self._conn.execute(
            """
            INSERT INTO customers_unified AS c (id, code, erp_customer_id, wechat_id, name_key, provenance,
              contract_linked, capture_version, data_quality_score, data_completeness, quality_factors, quality_issues,
              erp_sync_status, erp_sync_action, erp_sync_rule, erp_sync_reason, erp_sync_confidence, erp_sync_error,
              sync_version, push_result_version, requested_fields, local_updated_at, erp_updated_at, erp_last_pulled,
              erp_last_pushed)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13, $14, $15, $16, $17,
              $18, $19, $20, $21::jsonb, $22, $23, $24, $25)
            ON CONFLICT (id) DO UPDATE SET erp_customer_id = excluded.erp_customer_id, wechat_id = excluded.wechat_id,
              name_key = excluded.name_key, provenance = excluded.provenance, contract_linked = excluded.contract_linked,
              capture_version = excluded.capture_version, data_quality_score = excluded.data_quality_score,
              data_completeness = excluded.data_completeness, quality_factors = excluded.quality_factors,
              quality_issues = excluded.quality_issues, erp_sync_status = excluded.erp_sync_status,
              erp_sync_action = excluded.erp_sync_action, erp_sync_rule = excluded.erp_sync_rule,
              erp_sync_reason = excluded.erp_sync_reason, erp_sync_confidence = excluded.erp_sync_confidence,
              erp_sync_error = CASE WHEN $26 THEN NULL ELSE coalesce(excluded.erp_sync_error, c.erp_sync_error) END,
              sync_version = excluded.sync_version, push_result_version = excluded.push_result_version,
              requested_fields = excluded.requested_fields,
              local_updated_at = greatest(c.local_updated_at, excluded.local_updated_at),
              erp_updated_at = greatest(c.erp_updated_at, excluded.erp_updated_at),
              erp_last_pulled = greatest(c.erp_last_pulled, excluded.erp_last_pulled),
              erp_last_pushed = greatest(c.erp_last_pushed, excluded.erp_last_pushed),
              updated_at = now()
            """,
            r.id,
            r.code,
            r.erp_customer_id,
            r.wechat_id,
            r.name_key,
            dump_fields(dict(r.fields)),
            r.contract_linked,
            r.capture_version,
            r.quality_score,
            r.completeness,
            dumps(
                [
                    {"factor": f.factor, "points": f.points, "max": f.max_points, "reason": f.reason}
                    for f in r.quality_factors
                ]
            ),
            dumps(list(r.quality_issues)),
            r.sync_status,
            r.sync_action,
            r.sync_rule,
            r.sync_reason,
            r.sync_confidence,
            r.touch.error,
            r.sync_version,
            r.result_version,
            dumps(dict(r.requested_fields)),
            r.touch.local_updated_at,
            r.touch.erp_updated_at,
            r.touch.erp_last_pulled,
            r.touch.erp_last_pushed,
            r.touch.clear_error,
        )

    async def add_history(
        self,
        customer_id: str,
        changes: list[Change],
        trigger: str,
        event_id: uuid.UUID | None,
        changed_by: str = "system",
    ) -> None:
        await self._conn.executemany(
            """INSERT INTO field_change_history (customer_id, field_name, old_value, new_value, incoming_value,
                 value_source, change_type, change_reason, trigger, event_id, changed_by)
               VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6, $7, $8, $9, $10, $11)""",
            [
                (
                    customer_id,
                    ch.field,
                    dumps(ch.old),
                    dumps(ch.new),
                    dumps(ch.incoming),
                    ch.source or ("erp" if trigger == "erp_pull" else "unknown"),
                    ch.change_type,
                    ch.reason,
                    trigger,
                    event_id,
                    changed_by,
                )
                for ch in changes
            ],
        )

    async def add_decision(self, c: Customer, plan: Plan, trigger: str, rulebook_version: int) -> str:
        """Store the decision; returns the id of the transaction it is stored in (see DecisionCounter)."""
        d = plan.decision
        txid = await self._conn.fetchval(
            """INSERT INTO sync_decisions (customer_id, rule_name, action, reason, confidence, gates, quality_score,
                 emitted, sync_version, trigger, rulebook_version)
               VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11)
               RETURNING pg_current_xact_id()::text""",
            c.id,
            d.rule,
            d.action,
            d.reason,
            round(d.confidence, 3),
            dumps(list(d.gates)),
            plan.quality.score,
            plan.emit,
            c.sync.version if plan.emit else None,
            trigger,
            rulebook_version,
        )
        return str(txid)

    async def add_request(self, c: Customer, plan: Plan) -> None:
        await self._conn.execute(
            """INSERT INTO sync_requests (customer_id, version, action, fields, rule_name, reason)
               VALUES ($1, $2, $3, $4::jsonb, $5, $6)""",
            c.id,
            c.sync.version,
            plan.decision.action.lower(),
            dumps(plan.push),
            plan.decision.rule,
            plan.decision.reason,
        )

    async def complete_request(
        self,
        customer_id: str,
        version: int,
        result: str,
        erp_id: int | None,
        error: str | None,
        at: datetime,
    ) -> dict[str, Any] | None:
        """Record a push result on its request; returns what that request asked the ERP to hold."""
        fields = await self._conn.fetchval(
            """UPDATE sync_requests SET result = $3, erp_id = $4, error = $5, completed_at = $6
               WHERE customer_id = $1 AND version = $2 RETURNING fields""",
            customer_id,
            version,
            result,
            erp_id,
            error,
            at,
        )
        return orjson.loads(fields) if fields is not None else None

    async def log(
        self, customer_id: str, direction: str, kind: str, result: str, detail: dict[str, Any]
    ) -> None:
        await self._conn.execute(
            """INSERT INTO sync_log (customer_id, sync_direction, sync_type, sync_result, detail)
               VALUES ($1, $2, $3, $4, $5::jsonb)""",
            customer_id,
            direction,
            kind,
            result,
            dumps(detail),
        )

    async def has_contract_lines(self, name_key: str) -> bool:
        return bool(
            await self._conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM candidate_contracts WHERE name_key = $1)", name_key
            )
        )

    async def unlinked_customers(self, name_keys: list[str]) -> list[str]:
        """Customers a contract now names as 甲方 that do not know it yet."""
        rows = await self._conn.fetch(
            "SELECT id FROM customers_unified WHERE name_key = any($1::text[]) AND NOT contract_linked ORDER BY id",
            name_keys,
        )
        return [r["id"] for r in rows]
