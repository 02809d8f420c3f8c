"""The hand-written service the ingest/transform path is compared with (G6, G6b, G7): no framework, no plumbing.

A bare ASGI app under uvicorn (same server as ours), JWT checked with PyJWT, asyncpg and aiokafka used directly:
  GET  /noop                      the G6 baseline: an authenticated request that does nothing
  POST /raw/batch                 G6b: parse, check and hash each line; lines + idempotency + outbox, one transaction
  PUT  /raw/progress/{contract}   G7: one durable write, then an acks=all produce; a consumer task in this process
                                  consumes, writes the feed row (inbox in the same transaction), commits the offset
  GET  /raw/feed?since=N          G7: the feed read by cursor
Run: python -m bench.baselines.raw_service  (RAW_PORT, RAW_DSN, RAW_KAFKA, RAW_TOPIC, RAW_JWT_SECRET)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import jwt
import orjson
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.baselines import raw_sql as sql

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
BOOKKEEPING = frozenset({"sync_status", "sync_time", "cloud_contract_id", "last_sync_hash"})


class Raw:
    def __init__(self) -> None:
        self.secret = os.environ["RAW_JWT_SECRET"]
        self.topic = os.environ["RAW_TOPIC"]
        self.pool: asyncpg.Pool | None = None
        self.producer: AIOKafkaProducer | None = None
        self.consumer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.pool = await asyncpg.create_pool(os.environ["RAW_DSN"], min_size=2, max_size=4)
        kafka = os.environ["RAW_KAFKA"]
        self.producer = AIOKafkaProducer(
            bootstrap_servers=kafka, acks="all", enable_idempotence=True, linger_ms=0
        )
        await self.producer.start()
        self.consumer = asyncio.create_task(self.consume(kafka))

    async def stop(self) -> None:
        if self.consumer:
            self.consumer.cancel()
        if self.producer:
            await self.producer.stop()
        if self.pool:
            await self.pool.close()

    async def consume(self, kafka: str) -> None:
        assert self.pool is not None
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=kafka,
            group_id=f"raw-{uuid.uuid4().hex}",
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=5,
        )
        await consumer.start()
        try:
            while True:
                for records in (await consumer.getmany(timeout_ms=100, max_records=100)).values():
                    events = [orjson.loads(r.value) for r in records]
                    async with self.pool.acquire() as conn, conn.transaction():
                        fresh = {
                            r[0] for r in await conn.fetch(sql.CLAIM, [uuid.UUID(e["id"]) for e in events])
                        }
                        new = [e for e in events if uuid.UUID(e["id"]) in fresh]
                        await conn.execute(
                            sql.APPEND_FEED,
                            [e["c"] for e in new],
                            [e["s"] for e in new],
                            [e["by"] for e in new],
                        )
                    await consumer.commit()
        finally:
            await consumer.stop()

    def client(self, scope: dict[str, Any], needs: str) -> str | None:
        auth = dict(scope["headers"]).get(b"authorization", b"").decode()
        if not auth.startswith("Bearer "):
            return None
        try:
            claims = jwt.decode(auth[7:], self.secret, algorithms=["HS256"], audience="raw", issuer="raw")
        except jwt.PyJWTError:
            return None
        return str(claims["client_id"]) if needs in claims["scope"].split() else None

    async def progress(self, contract_no: str, body: bytes, client_id: str) -> tuple[int, bytes]:
        assert self.pool is not None
        assert self.producer is not None
        data = orjson.loads(body)
        status, by = data.get("status"), data.get("updated_by")
        if not isinstance(status, str) or not isinstance(by, str) or not 0 < len(by) <= 64:
            return 422, b'{"code":"invalid_report"}'
        async with self.pool.acquire() as conn:
            await conn.execute(sql.SAVE_PROGRESS, contract_no, "检验", status, by)
        event = {"id": str(uuid.uuid4()), "c": contract_no, "s": status, "by": by, "client": client_id}
        await self.producer.send_and_wait(self.topic, orjson.dumps(event), key=contract_no.encode())
        return 202, b'{"status":"accepted"}'

    async def feed(self, query: bytes) -> tuple[int, bytes]:
        assert self.pool is not None
        since = int(parse_qs(query.decode()).get("since", ["0"])[0])
        rows = await self.pool.fetch(sql.READ_FEED, since, 500)
        items = [{"id": r["id"], "合同编号": r["contract_no"], "updated_by": r["updated_by"]} for r in rows]
        return 200, orjson.dumps({"contracts": items, "next_cursor": rows[-1]["id"] if rows else since})

    async def batch(self, body: bytes, client_id: str, key: str | None) -> tuple[int, bytes]:
        assert self.pool is not None
        data = orjson.loads(body)
        rows, overwrite = data.get("contracts"), data.get("overwrite", False)
        if not isinstance(rows, list) or not rows or len(rows) > 10_000 or not isinstance(overwrite, bool):
            return 422, b'{"code":"invalid_request"}'
        lines, rejected = check_lines(rows)
        request_hash = hashlib.sha256(body).hexdigest()
        async with self.pool.acquire() as conn, conn.transaction():
            if key:
                await conn.execute(sql.LOCK_KEY, client_id, key)
                stored = await conn.fetchrow(sql.STORED, client_id, key)
                if stored:
                    same = stored["request_hash"] == request_hash
                    return (200, bytes(stored["response"])) if same else (409, b'{"code":"key_reused"}')
            answer = await write_lines(conn, lines, overwrite, client_id, self.topic)
            out = orjson.dumps({**answer, "rejected": rejected})
            if key:
                await conn.execute(sql.STORE, client_id, key, request_hash, out)
        return 200, out


def _key(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def check_lines(rows: list[Any]) -> tuple[list[tuple[str, str, dict[str, Any], str]], list[int]]:
    """The checks ingest makes: a dict, both keys as text ≤ 64 chars, plain values ≤ 4 000 chars without NUL."""
    lines, rejected, seen = [], [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or len(row) > 200:
            rejected.append(i)
            continue
        c, p = _key(row.get("合同编号")), _key(row.get("产品ID"))
        bad_key = not c or not p or len(c) > 64 or len(p) > 64 or "/" in c + p or "\x00" in c + p
        bad_value = any(
            isinstance(v, (dict, list)) or (isinstance(v, str) and (len(v) > 4000 or "\x00" in v))
            for v in row.values()
        )
        if bad_key or bad_value or (c, p) in seen:
            rejected.append(i)
            continue
        seen.add((c, p))
        canonical = {
            _key(k): unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v
            for k, v in row.items()
            if _key(k) not in BOOKKEEPING
        }
        text = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        lines.append((c, p, row, hashlib.sha256(text.encode()).hexdigest()))
    return lines, rejected


async def write_lines(
    conn: asyncpg.Connection,
    lines: list[tuple[str, str, dict[str, Any], str]],
    overwrite: bool,
    client: str,
    topic: str,
) -> dict[str, int]:
    keys = ([x[0] for x in lines], [x[1] for x in lines])
    await conn.fetch(sql.EXISTING, *keys)
    written = await conn.fetch(
        sql.UPSERT,
        *keys,
        [x[3] for x in lines],
        [orjson.dumps(x[2]).decode() for x in lines],
        "bench",
        client,
        overwrite,
    )
    versions = {(r["contract_no"], r["product_id"]): r["version"] for r in written}
    now = datetime.now(UTC).isoformat()
    records = []
    for c, p, row, h in lines:
        if (c, p) in versions:
            event_id = uuid.uuid4()
            payload = {
                "contract_no": c,
                "product_id": p,
                "version": versions[c, p],
                "content_hash": h,
                "row": row,
            }
            envelope = {
                "event_id": str(event_id),
                "event_type": "HetongRowChanged",
                "occurred_at": now,
                "payload": payload,
            }
            records.append(
                (event_id, topic, f"{c}/{p}", orjson.dumps(envelope), '{"event_type":"HetongRowChanged"}')
            )
    if records:
        await conn.copy_records_to_table(
            "outbox", records=records, columns=sql.OUTBOX_COLUMNS, schema_name=sql.SCHEMA
        )
    return {"accepted": len(versions), "unchanged": len(lines) - len(versions)}


async def _body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def make_app(raw: Raw) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await raw.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await raw.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        status, out = await route(raw, scope, receive)
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    return app


async def route(raw: Raw, scope: dict[str, Any], receive: Receive) -> tuple[int, bytes]:
    method, path = scope["method"], scope["path"]
    if path == "/readyz":
        return 200, b"{}"
    need = {"/noop": "sync:read", "/raw/feed": "sync:read", "/raw/batch": "contracts:write"}.get(
        path, "progress:write"
    )
    client = raw.client(scope, need)
    if client is None:
        return 401, b'{"code":"unauthorized"}'
    if path == "/noop":
        return 200, b"{}"
    if path == "/raw/feed" and method == "GET":
        return await raw.feed(scope["query_string"])
    if path == "/raw/batch" and method == "POST":
        key = dict(scope["headers"]).get(b"idempotency-key")
        return await raw.batch(await _body(receive), client, key.decode() if key else None)
    if path.startswith("/raw/progress/") and method == "PUT":
        return await raw.progress(path.removeprefix("/raw/progress/"), await _body(receive), client)
    return 404, b'{"code":"not_found"}'


if __name__ == "__main__":
    uvicorn.run(make_app(Raw()), host="127.0.0.1", port=int(os.environ["RAW_PORT"]), log_level="warning")
