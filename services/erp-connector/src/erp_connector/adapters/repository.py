"""SQL for the erp schema. Functions take and return domain objects, never asyncpg Records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from erp_connector.domain.control import ControlState
from erp_connector.domain.push import Origin, PushItem, PushRequest, Stage

if TYPE_CHECKING:
    import asyncpg

    from erp_connector.domain.customer import ErpCustomer


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


# -- connector state -------------------------------------------------------------------------------


async def load_control(pool: asyncpg.Pool) -> tuple[ControlState, str | None]:
    row = await pool.fetchrow(
        "SELECT paused, stopped_auth, reason, credentials_fingerprint FROM erp_connector_state WHERE id = 1"
    )
    if row is None:
        return ControlState(), None
    return ControlState(row["paused"], row["stopped_auth"], row["reason"]), row["credentials_fingerprint"]


async def save_control(pool: asyncpg.Pool, state: ControlState, fingerprint: str | None) -> None:
    await pool.execute(
        """
        INSERT INTO erp_connector_state (id, paused, stopped_auth, reason, credentials_fingerprint, changed_at)
        VALUES (1, $1, $2, $3, $4, now())
        ON CONFLICT (id) DO UPDATE SET paused = $1, stopped_auth = $2, reason = $3,
          credentials_fingerprint = $4, changed_at = now()
        """,
        state.paused,
        state.stopped_auth,
        state.reason,
        fingerprint,
    )


# -- sync logs -------------------------------------------------------------------------------------

DIRECTIONS = {"pull": "erp_to_local", "push": "local_to_erp"}


async def add_sync_log(pool: asyncpg.Pool, sync_type: str, result: str, detail: dict[str, Any]) -> None:
    await pool.execute(
        "INSERT INTO erp_sync_logs (sync_direction, sync_type, sync_result, detail) VALUES ($1, $2, $3, $4::jsonb)",
        DIRECTIONS[sync_type],
        sync_type,
        result,
        _json(detail),
    )


async def last_syncs(pool: asyncpg.Pool) -> dict[str, Any]:
    rows = await pool.fetch(
        "SELECT DISTINCT ON (sync_type) sync_type, sync_result, synced_at, detail FROM erp_sync_logs"
        " ORDER BY sync_type, synced_at DESC, id DESC"
    )
    last = {
        r["sync_type"]: {
            "at": r["synced_at"].isoformat(),
            "result": r["sync_result"],
            **orjson.loads(r["detail"]),
        }
        for r in rows
    }
    return {"last_pull": last.get("pull"), "last_push": last.get("push")}


async def failures_last_hour(pool: asyncpg.Pool) -> dict[str, int]:
    row = await pool.fetchrow(
        """
        SELECT
          (SELECT count(*) FROM erp_sync_logs
            WHERE sync_result = 'failed' AND synced_at > now() - interval '1 hour') AS runs,
          (SELECT count(*) FROM erp_push_attempts
            WHERE outcome = 'dead' AND at > now() - interval '1 hour') AS pushes
        """
    )
    assert row is not None
    return {"runs": int(row["runs"]), "pushes": int(row["pushes"])}


# -- pull: content hashes --------------------------------------------------------------------------

PULL_LOCK = 0x65727070  # "erpp": one pull at a time across replicas


async def try_pull_lock(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", PULL_LOCK))


async def pull_unlock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", PULL_LOCK)


async def next_scan_id(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT nextval('erp_pull_scan_seq')"))


async def stored_hashes(conn: asyncpg.Connection, erp_ids: list[int]) -> dict[int, tuple[str, int]]:
    rows = await conn.fetch(
        "SELECT erp_id, content_hash, version FROM erp_customer_hashes WHERE erp_id = any($1::bigint[])",
        erp_ids,
    )
    return {r["erp_id"]: (r["content_hash"], r["version"]) for r in rows}


@dataclass(frozen=True, slots=True)
class HashWrite:
    customer: ErpCustomer
    version: int


async def upsert_hashes(conn: asyncpg.Connection, writes: list[HashWrite], scan: int) -> None:
    if not writes:
        return
    await conn.executemany(
        """
        INSERT INTO erp_customer_hashes (erp_id, code, name, content_hash, version, fields, raw, last_seen_scan)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)
        ON CONFLICT (erp_id) DO UPDATE SET code = excluded.code, name = excluded.name,
          content_hash = excluded.content_hash, version = excluded.version, fields = excluded.fields,
          raw = excluded.raw, last_seen_scan = excluded.last_seen_scan, last_seen_at = now(),
          changed_at = now(), visible = true, missed_scans = 0, not_visible_since = NULL
        """,
        [
            (
                w.customer.erp_id,
                w.customer.code,
                w.customer.name,
                w.customer.content_hash,
                w.version,
                _json(w.customer.fields()),
                _json(dict(w.customer.raw)),
                scan,
            )
            for w in writes
        ],
    )


async def touch_seen(conn: asyncpg.Connection, erp_ids: list[int], scan: int) -> None:
    if erp_ids:
        await conn.execute(
            "UPDATE erp_customer_hashes SET last_seen_scan = $2, last_seen_at = now(), visible = true,"
            " missed_scans = 0, not_visible_since = NULL WHERE erp_id = any($1::bigint[])",
            erp_ids,
            scan,
        )


async def mark_unseen(pool: asyncpg.Pool, scan: int, after_scans: int) -> int:
    """After a complete scan: count a miss for every ord it did not see; flag, never delete."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE erp_customer_hashes SET missed_scans = missed_scans + 1"
            " WHERE last_seen_scan < $1 AND visible",
            scan,
        )
        flagged = await conn.fetchval(
            """
            WITH f AS (UPDATE erp_customer_hashes SET visible = false, not_visible_since = now()
                       WHERE visible AND missed_scans >= $1 RETURNING 1)
            SELECT count(*) FROM f
            """,
            after_scans,
        )
    return int(flagged)


async def hash_counts(pool: asyncpg.Pool) -> dict[str, int]:
    row = await pool.fetchrow(
        "SELECT count(*) FILTER (WHERE visible) AS visible, count(*) FILTER (WHERE NOT visible) AS not_visible"
        " FROM erp_customer_hashes"
    )
    assert row is not None
    return {"visible": int(row["visible"]), "not_visible": int(row["not_visible"])}


# -- push: requests and queue ----------------------------------------------------------------------


async def enqueue(conn: asyncpg.Connection, requests: list[PushRequest]) -> int:
    """Store the requests; the queue row per customer points at the newest. Returns new rows."""
    inserted = await conn.fetch(
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
        [_json(r.fields) for r in requests],
        [r.rule for r in requests],
        [r.reason for r in requests],
        [r.command for r in requests],
        [_json(r.headers) for r in requests],
    )
    newest: dict[str, tuple[int, int | None]] = {}
    for r in inserted:
        if r["customer_id"] not in newest or r["version"] > newest[r["customer_id"]][0]:
            newest[r["customer_id"]] = (r["version"], r["request_erp_id"])
    if newest:
        await conn.executemany(
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
    await revive_replayed(conn, [r for r in requests if r.replay])
    return len(inserted)


async def revive_replayed(conn: asyncpg.Connection, replayed: list[PushRequest]) -> None:
    """A dead push whose command an operator replayed is pushed again, from a fresh attempt count.
    (The request row already exists, so the insert above did nothing; the inbox let the replay in
    once.) Only while it is still the customer's newest version: a newer one supersedes it."""
    if not replayed:
        return
    ids, versions = [r.customer_id for r in replayed], [r.version for r in replayed]
    await conn.execute(
        """
        UPDATE erp_push_requests SET outcome = NULL
        WHERE (customer_id, version) IN (SELECT * FROM unnest($1::text[], $2::bigint[])) AND outcome = 'dead'
        """,
        ids,
        versions,
    )
    await conn.execute(
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


async def claim_pushes(pool: asyncpg.Pool, limit: int, lease_s: float) -> list[PushItem]:
    """Due rows (or rows whose worker died) move to in_flight under a fresh token and lease.
    A row whose newest version is newer than the one it last worked on starts that version afresh."""
    token = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
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
        rows = await conn.fetch(
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


async def save_progress(pool: asyncpg.Pool, item: PushItem, lease_s: float) -> bool:
    """Persist how far the item got (stage, target, counters) and extend its lease. False when the
    claim is no longer ours: it expired (another worker may have it) or was taken; stop at once."""
    status = await pool.execute(
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
    return _touched(status)


def _touched(status: str) -> bool:
    """asyncpg's command tag, e.g. 'UPDATE 1'."""
    return status.split()[-1] != "0"


async def release(pool: asyncpg.Pool, item: PushItem, delay_s: float, error: str | None) -> bool:
    """Back to pending, due again after `delay_s` (backoff, Retry-After or an open breaker).
    False when the claim was no longer ours (then the row is left to whoever holds it)."""
    status = await pool.execute(
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
    return _touched(status)


async def finish(conn: asyncpg.Connection, item: PushItem, outcome: str, error: str | None) -> bool:
    """Mark the claimed version synced or dead (in the caller's transaction, beside its outbox rows).
    A newer version received meanwhile puts the row back to pending. False if the claim was lost."""
    done = await conn.fetchval(
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
    await conn.execute(
        "UPDATE erp_push_requests SET outcome = CASE WHEN version = $2 THEN $3 ELSE 'superseded' END"
        " WHERE customer_id = $1 AND version <= $2 AND outcome IS NULL",
        item.customer_id,
        item.version,
        outcome,
    )
    return True


async def add_attempt(
    pool: asyncpg.Pool, item: PushItem, stage: str, outcome: str, error: str | None, duration_s: float
) -> None:
    await pool.execute(
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


async def next_due_in(pool: asyncpg.Pool) -> float | None:
    """Seconds until the next pending push is due (0 if one is due now); None if none is pending."""
    value = await pool.fetchval(
        "SELECT extract(epoch FROM min(next_attempt_at) - now())::float8 FROM erp_push_queue WHERE status = 'pending'"
    )
    return None if value is None else max(0.0, float(value))


async def backlog(pool: asyncpg.Pool) -> dict[str, Any]:
    row = await pool.fetchrow(
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
