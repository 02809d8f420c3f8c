"""Accept a batch of `hetong` lines: one transaction for lines, outbox events and the idempotency record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from common import outbox, topics
from common.events.envelope import Envelope
from common.events.ingest import HetongRowChanged
from ingest.adapters import repository as repo
from ingest.domain.lines import CONTRACT_NO, PRODUCT_ID, Line, Rejection, parse_lines
from ingest.service_layer.errors import IdempotencyKeyReusedError

if TYPE_CHECKING:
    import asyncpg

SCHEMA = "ingest"


@dataclass(frozen=True, slots=True)
class UploadBatch:
    client_id: str
    rows: list[object]
    overwrite: bool
    source: str
    idempotency_key: str | None
    request_hash: str
    correlation_id: str


def _event(line: Line, version: int, cmd: UploadBatch, now: datetime) -> outbox.OutboxRow:
    payload = HetongRowChanged(
        contract_no=line.contract_no,
        product_id=line.product_id,
        version=version,
        content_hash=line.content_hash,
        row=line.row,
        source=cmd.source,
        client_id=cmd.client_id,
        received_at=now,
    )
    envelope = Envelope[HetongRowChanged](
        event_type="HetongRowChanged", source=SCHEMA, correlation_id=cmd.correlation_id, payload=payload
    )
    return outbox.row_for(topics.INGEST_HETONG_ROW_CHANGED, f"{line.contract_no}/{line.product_id}", envelope)


def _result(
    line: Line, versions: dict[tuple[str, str], int], existing: dict[tuple[str, str], str]
) -> dict[str, Any]:
    key = (line.contract_no, line.product_id)
    base: dict[str, Any] = {"index": line.index, CONTRACT_NO: line.contract_no, PRODUCT_ID: line.product_id}
    if key in versions:
        return {**base, "status": "accepted", "version": versions[key]}
    same = existing.get(key) == line.content_hash
    reason = "same_content" if same else "exists_not_overwritten"
    return {**base, "status": "unchanged", "reason": reason}


def _rejected(r: Rejection) -> dict[str, Any]:
    return {
        "index": r.index,
        CONTRACT_NO: r.contract_no,
        PRODUCT_ID: r.product_id,
        "status": "rejected",
        "reason": r.reason,
        "message": r.message,
    }


def _body(results: list[dict[str, Any]]) -> bytes:
    results.sort(key=lambda r: int(r["index"]))
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("accepted", "unchanged", "rejected")}
    return orjson.dumps({**counts, "results": results})


async def upload_batch(pool: asyncpg.Pool, cmd: UploadBatch) -> bytes:
    lines, rejections = parse_lines(cmd.rows)
    async with pool.acquire() as conn, conn.transaction():
        if cmd.idempotency_key:
            await repo.lock_idempotency_key(conn, cmd.client_id, cmd.idempotency_key)
            stored = await repo.stored_response(conn, cmd.client_id, cmd.idempotency_key)
            if stored is not None:
                if stored.request_hash != cmd.request_hash:
                    raise IdempotencyKeyReusedError(
                        "Idempotency-Key 已用于不同的请求体 / key was used with another body"
                    )
                return stored.body
        existing = await repo.existing_hashes(conn, lines) if lines else {}
        versions = (
            await repo.upsert_lines(conn, lines, cmd.overwrite, cmd.source, cmd.client_id) if lines else {}
        )
        now = datetime.now(UTC)
        await outbox.add(
            conn,
            SCHEMA,
            [
                _event(x, versions[(x.contract_no, x.product_id)], cmd, now)
                for x in lines
                if (x.contract_no, x.product_id) in versions
            ],
        )
        body = _body([_result(x, versions, existing) for x in lines] + [_rejected(r) for r in rejections])
        if cmd.idempotency_key:
            await repo.store_response(conn, cmd.client_id, cmd.idempotency_key, cmd.request_hash, 200, body)
    return body
