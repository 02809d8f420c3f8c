"""erp_push_requests, erp_push_queue, erp_push_attempts: what rules asked for, the newest version per
customer with its claim and progress, and every ERP call made for it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from erp_connector.adapters.sql_values import as_json, touched
from erp_connector.domain.push import Origin, PushItem, PushRequest, Stage

if TYPE_CHECKING:
    import asyncpg


class PostgresPushQueue:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def enqueue(self, requests: list[PushRequest]) -> int:
        """Store the requests; the queue row per customer points at the newest. Returns new rows."""
        inserted = await self._conn.fetch(
            """
            INSERT INTO erp_push_requests (customer_id, version, event_id, action, code, request_erp_id, fields,
              rule, reason, command, command_headers)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::bigint[],
              $7::jsonb[], $8::text[], $9::text[], $10::bytea[], $11::jsonb[])
            ON CONFLICT (customer_id, version) DO NOTHING
            RETURNING customer_id, version, request_erp_id
            """,
            [r.customer_id for r in requests],
            [r.version for r in requests],
            [uuid.UUID(r.event_id) for r in requests],
            [r.action for r in requests],
            [r.code for r in requests],
            [r.erp_id for r in requests],
            [as_json(r.fields) for r in requests],
            [r.rule for r in requests],
            [r.reason for r in requests],
            [r.command for r in requests],
            [as_json(r.headers) for r in requests],
        )
        newest: dict[str, tuple[int, int | None]] = {}
        for r in inserted:
            if r["customer_id"] not in newest or r["version"] > newest[r["customer_id"]][0]:
                newest[r["customer_id"]] = (r["version"], r["request_erp_id"])
        if newest:
            await self._conn.executemany(
                """
                INSERT INTO erp_push_queue AS q (customer_id, version, latest_version, status, stage, erp_id,
                  erp_id_origin, write_code)
                VALUES ($1, $2, $2, 'pending', $3, $4, $5, $4::bigint IS NULL)
                ON CONFLICT (customer_id) DO UPDATE SET
                  latest_version = GREATEST(q.latest_version, excluded.latest_version),
                  status = CASE WHEN q.status IN ('synced', 'dead') AND excluded.latest_version > q.version
                                THEN 'pending' ELSE q.status END,
                  next_attempt_at = CASE WHEN q.status IN ('synced', 'dead') AND excluded.latest_version > q.version
                                         THEN now() ELSE q.next_attempt_at END,
                  updated_at = now()
                """,
                [
                    (
                        cid,
                        version,
                        Stage.WRITE if erp_id else Stage.RESOLVE,
                        erp_id,
                        Origin.REQUEST if erp_id else None,
                    )
                    for cid, (version, erp_id) in newest.items()
                ],
            )
        await self._revive_replayed([r for r in requests if r.replay])
        return len(inserted)

    async def _revive_replayed(self, replayed: list[PushRequest]) -> None:
        """A dead push whose command an operator replayed is pushed again, from a fresh attempt count.
        (The request row already exists, so the insert above did nothing; the inbox let the replay in
        once.) Only while it is still the customer's newest version: a newer one supersedes it."""
        if not replayed:
            return
        ids, versions = [r.customer_id for r in replayed], [r.version for r in replayed]
        await self._conn.execute(
            """
            UPDATE erp_push_requests SET outcome = NULL
            WHERE (customer_id, version) IN (SELECT * FROM unnest($1::text[], $2::bigint[])) AND outcome = 'dead'
            """,
            ids,
            versions,
        )
        await self._conn.execute(
            """
            UPDATE erp_push_queue q SET status = 'pending', attempts = 0, read_failures = 0,
              next_attempt_at = now(), completed_at = NULL, updated_at = now()
            FROM unnest($1::text[], $2::bigint[]) AS r(customer_id, version)
            WHERE q.customer_id = r.customer_id AND q.status = 'dead'
              AND q.version = r.version AND q.latest_version = r.version
            """,
            ids,
            versions,
        )

    async def claim(self, limit: int, lease_s: float) -> list[PushItem]:
        """Due rows (or rows whose worker died) move to in_flight under a fresh token and lease.
        A row whose newest version is newer than the one it last worked on starts that version afresh."""
        token = uuid.uuid4()
        await self._conn.execute(
            """
            WITH c AS (
              SELECT customer_id FROM erp_push_queue
              WHERE (status = 'pending' AND next_attempt_at <= now())
                 OR (status = 'in_flight' AND claimed_until < now())
              ORDER BY next_attempt_at, customer_id LIMIT $1 FOR UPDATE SKIP LOCKED)
            UPDATE erp_push_queue q SET status = 'in_flight', claim_token = $2,
              claimed_until = now() + make_interval(secs => $3), updated_at = now(),
              attempts = CASE WHEN q.version <> q.latest_version THEN 0 ELSE q.attempts END,
              read_failures = CASE WHEN q.version <> q.latest_version THEN 0 ELSE q.read_failures END,
              stage = CASE WHEN q.version <> q.latest_version AND q.stage = 'verify' THEN 'write' ELSE q.stage END,
              version = q.latest_version
            FROM c WHERE q.customer_id = c.customer_id
            """,
            limit,
            token,
            lease_s,
        )
        rows = await self._conn.fetch(
            """
            SELECT q.customer_id, q.version, q.stage, q.erp_id, q.erp_id_origin, q.write_code, q.attempts,
              q.read_failures, q.claim_token, q.last_error, r.code, r.action, r.request_erp_id, r.fields,
              r.event_id, r.command, r.command_headers, r.rule, r.reason
            FROM erp_push_queue q
            JOIN erp_push_requests r ON r.customer_id = q.customer_id AND r.version = q.version
            WHERE q.claim_token = $1 ORDER BY q.next_attempt_at, q.customer_id
            """,
            token,
        )
        return [_item(r) for r in rows]

    async def save_progress(self, item: PushItem, lease_s: float) -> bool:
        """Persist how far the item got (stage, target, counters) and extend its lease. False when the
        claim is no longer ours: it expired (another worker may have it) or was taken; stop at once."""
        status = await self._conn.execute(
            """
            UPDATE erp_push_queue SET stage = $3, erp_id = $4, erp_id_origin = $5, write_code = $6,
              attempts = $7, read_failures = $8, claimed_until = now() + make_interval(secs => $9), updated_at = now()
            WHERE customer_id = $1 AND claim_token = $2 AND claimed_until > now()
            """,
            item.customer_id,
            uuid.UUID(item.claim_token),
            item.stage.value,
            item.erp_id,
            item.origin.value if item.origin else None,
            item.write_code,
            item.attempts,
            item.read_failures,
            lease_s,
        )
        return touched(status)

    async def release(self, item: PushItem, delay_s: float, error: str | None) -> bool:
        """Back to pending, due again after `delay_s` (backoff, Retry-After or an open breaker).
        False when the claim was no longer ours (then the row is left to whoever holds it)."""
        status = await self._conn.execute(
            """
            UPDATE erp_push_queue SET status = 'pending', claim_token = NULL, claimed_until = NULL,
              next_attempt_at = now() + make_interval(secs => $3), stage = $4, erp_id = $5, erp_id_origin = $6,
              write_code = $7, attempts = $8, read_failures = $9, last_error = coalesce($10, last_error),
              updated_at = now()
            WHERE customer_id = $1 AND claim_token = $2
            """,
            item.customer_id,
            uuid.UUID(item.claim_token),
            delay_s,
            item.stage.value,
            item.erp_id,
            item.origin.value if item.origin else None,
            item.write_code,
            item.attempts,
            item.read_failures,
            error,
        )
        return touched(status)

    async def finish(self, item: PushItem, outcome: str, error: str | None) -> bool:
        """Mark the claimed version synced or dead (in the caller's transaction, beside its outbox rows).
        A newer version received meanwhile puts the row back to pending. False if the claim was lost."""
        done = await self._conn.fetchval(
            """
            UPDATE erp_push_queue SET
              status = CASE WHEN latest_version > version THEN 'pending' ELSE $3 END,
              stage = CASE WHEN $4::bigint IS NULL THEN 'resolve' ELSE 'write' END,
              erp_id = $4, erp_id_origin = CASE WHEN $3 = 'synced' AND $5 = 'allocated' THEN 'code' ELSE $5 END,
              write_code = $6, attempts = $7, read_failures = $8,
              synced_version = CASE WHEN $3 = 'synced' THEN version ELSE synced_version END,
              last_error = $9, completed_at = now(), claim_token = NULL, claimed_until = NULL,
              next_attempt_at = now(), updated_at = now()
            WHERE customer_id = $1 AND claim_token = $2
            RETURNING true
            """,
            item.customer_id,
            uuid.UUID(item.claim_token),
            outcome,
            item.erp_id,
            item.origin.value if item.origin else None,
            item.write_code,
            item.attempts,
            item.read_failures,
            error,
        )
        if not done:
            return False
        await self._conn.execute(
            "UPDATE erp_push_requests SET outcome = CASE WHEN version = $2 THEN $3 ELSE 'superseded' END"
            " WHERE customer_id = $1 AND version <= $2 AND outcome IS NULL",
            item.customer_id,
            item.version,
            outcome,
        )
        return True

    async def add_attempt(
        self, item: PushItem, stage: str, outcome: str, error: str | None, duration_s: float
    ) -> None:
        await self._conn.execute(
            "INSERT INTO erp_push_attempts (customer_id, version, stage, attempt, outcome, erp_id, error, duration_ms)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            item.customer_id,
            item.version,
            stage,
            item.attempts,
            outcome,
            item.erp_id,
            error[:1000] if error else None,
            round(duration_s * 1000),
        )

    async def next_due_in(self) -> float | None:
        """Seconds until the next pending push is due (0 if one is due now); None if none is pending."""
        value = await self._conn.fetchval(
            "SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 FROM erp_push_queue WHERE status = 'pending'"
        )
        return None if value is None else max(0.0, float(value))

    async def backlog(self) -> dict[str, Any]:
        row = await self._conn.fetchrow(
            """
            SELECT count(*) FILTER (WHERE status = 'pending') AS queued,
                   count(*) FILTER (WHERE status = 'in_flight') AS in_flight,
                   count(*) FILTER (WHERE status = 'pending' AND (attempts > 0 OR read_failures > 0)) AS retrying,
                   min(enqueued_at) FILTER (WHERE status IN ('pending', 'in_flight')) AS oldest
            FROM erp_push_queue
            """
        )
        assert row is not None
        oldest: datetime | None = row["oldest"]
        return {
            "queued": int(row["queued"]),
            "in_flight": int(row["in_flight"]),
            "retrying": int(row["retrying"]),
            "oldest_queued_at": oldest.isoformat() if oldest else None,
        }


def _item(r: Any) -> PushItem:
    request = PushRequest(
        customer_id=r["customer_id"],
        code=r["code"],
        action=r["action"],
        erp_id=r["request_erp_id"],
        version=r["version"],
        fields=orjson.loads(r["fields"]),
        event_id=str(r["event_id"]),
        command=bytes(r["command"]),
        headers=orjson.loads(r["command_headers"]),
        rule=r["rule"],
        reason=r["reason"],
    )
    return PushItem(
        customer_id=r["customer_id"],
        version=r["version"],
        stage=Stage(r["stage"]),
        erp_id=r["erp_id"],
        origin=Origin(r["erp_id_origin"]) if r["erp_id_origin"] else None,
        write_code=r["write_code"],
        attempts=r["attempts"],
        read_failures=r["read_failures"],
        claim_token=str(r["claim_token"]),
        request=request,
        last_error=r["last_error"],
    )
