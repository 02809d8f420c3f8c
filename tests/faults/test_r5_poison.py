"""R5 (DELIVERY.md §12): 0.1 % poison messages (undecodable bytes, schema-invalid envelopes) mixed into a load.

Each is dead-lettered once with its reason and original bytes, the partitions behind it keep moving, and after the
fix (the producer's corrected event, replayed under the dead letter's id) the tables equal the reference fold.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from common import topics
from common.events.customers import WechatCustomerCaptured
from common.events.envelope import Envelope
from common.events.ingest import HetongRowChanged
from common.replay import DeadLetter, read_all
from common.settings import KafkaSettings
from tests.support.api import bearer, create_client, eventually, login
from tests.support.careful_client import CarefulClient
from tests.support.faults import SCENARIO_TIMEOUT_S, figures, size
from tests.support.generate import contract_rows
from tests.support.stack import KAFKA_BOOTSTRAP, ServiceProcess
from tests.support.workload import Reference, capture_groups, customer_workload

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(SCENARIO_TIMEOUT_S)]
EVENTS = size(5_000, 100_000, "ROLLSYNC_R5_EVENTS")
POISON = max(EVENTS // 1000, 4)
BATCH = 250
STALL_BOUND_S = 5 * 10  # max_attempts × backoff cap (common.settings.RetrySettings)
KAFKA = KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP)
LINES, CAPTURES = topics.INGEST_HETONG_ROW_CHANGED, topics.INGEST_WECHAT_CUSTOMER_CAPTURED


@dataclass(frozen=True)
class Poison:
    """One injected bad message and the event it should have been."""

    topic: str
    kind: str  # undecodable | invalid
    event_id: str
    key: str
    sent: bytes
    fixed: bytes
    line: dict[str, Any] | None = None  # the line (or capture) the corrected event carries
    capture: dict[str, Any] | None = None


async def test_r5_poison_is_dead_lettered_without_stalls_and_replayed_after_a_fix(
    admin: asyncpg.Connection, services: dict[str, ServiceProcess], http: httpx.AsyncClient, fault_seed: int
) -> None:
    rng = random.Random(fault_seed)
    prefix = f"R5{uuid.uuid4().hex[:6]}-"
    rows = contract_rows(EVENTS * 8 // 10, seed=rng.randrange(2**31), prefix=prefix)
    customers = customer_workload(EVENTS - len(rows), rng, prefix)
    poisons = [_poison(i, prefix, rng) for i in range(POISON)]
    token = await login(http, services["ingest"].url, *await create_client(admin))
    client, ref = CarefulClient(http, bearer(token)), Reference()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        t0 = time.monotonic()
        batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
        per_c = -(-len(customers) // len(batches))
        at = {
            i: [p for j, p in enumerate(poisons) if j * len(batches) // POISON == i]
            for i in range(len(batches))
        }
        for n, batch in enumerate(batches):
            r = await client.send("POST", f"{services['ingest'].url}/sync/contracts/batch", _body(batch))
            assert r.status_code == 200, r.text
            ref.accept_lines(batch, r.json())
            for group in capture_groups(customers[n * per_c : (n + 1) * per_c], 4):
                await asyncio.gather(*(_capture(client, services["ingest"].url, ref, c) for c in group))
            for p in at[n]:
                await _send(producer, p.topic, p.key, p.sent, {"event_id": p.event_id})
        load_done = time.monotonic()
        print(f"R5 load sent in {load_done - t0:.1f}s")  # noqa: T201
        # Nothing stalls behind a poison: everything valid applies within the retry bound after the load.
        await eventually(lambda: _valid_applied(admin, prefix, ref), timeout_s=STALL_BOUND_S + 30, every_s=1)
        applied_s = time.monotonic() - load_done
        letters = await eventually(lambda: _letters(poisons), timeout_s=60, every_s=1)
        _check_letters(poisons, letters)
        for p in poisons:  # the fix: the producer's corrected event, under the dead letter's id, as a replay
            d = letters[p.event_id][0]
            await _send(producer, p.topic, p.key, p.fixed, dict(_pairs(d.replay_headers(f"{p.topic}.dlq"))))
    finally:
        await producer.stop()
    for p in poisons:
        if p.line:
            key = (p.line["合同编号"], p.line["产品ID"])
            ref.lines[key], ref.line_versions[key] = p.line, 1
        if p.capture:
            ref.customers[p.capture["wechat_id"]], ref.capture_versions[p.capture["wechat_id"]] = p.capture, 1
    try:
        digest = await eventually(lambda: _fixed(admin, prefix, ref), timeout_s=60, every_s=1)
    except AssertionError:
        pytest.fail(
            f"seed {fault_seed}: after the fix the tables differ from the reference:\n{await _diff(admin, prefix, ref)}"
        )
    figures(
        "R5",
        {
            "seed": fault_seed,
            "events": len(rows) + len(customers),
            "poison injected": f"{POISON} ({sum(p.kind == 'undecodable' for p in poisons)} undecodable)",
            "dead letters": sum(len(v) for v in letters.values()),
            "valid load applied after last send s": round(applied_s, 1),
            "digest after fix (== reference)": digest,
        },
    )


async def _capture(client: CarefulClient, url: str, ref: Reference, body: dict[str, Any]) -> None:
    r = await client.send("POST", f"{url}/customers/capture", body, idempotent_key=False)
    assert r.status_code == 200, r.text
    ref.accept_capture(body, r.json())


def _body(batch: list[dict[str, Any]]) -> dict[str, Any]:
    return {"contracts": batch, "overwrite": True, "source": "local_system"}


def _pairs(headers: list[tuple[str, bytes]]) -> list[tuple[str, str]]:
    return [(k, v.decode()) for k, v in headers]


async def _send(
    producer: AIOKafkaProducer, topic: str, key: str, value: bytes, headers: dict[str, str]
) -> None:
    await producer.send_and_wait(
        topic, value, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
    )


def _poison(i: int, prefix: str, rng: Any) -> Poison:
    """Even: a contract line; odd: a customer capture. Kinds alternate in pairs, so each topic gets both."""
    event_id, kind = str(uuid.uuid4()), ("undecodable", "invalid")[(i // 2) % 2]
    now = datetime.now(UTC)
    if i % 2 == 0:
        line = {**contract_rows(1, seed=rng.randrange(2**31), prefix=f"{prefix}X{i}-")[0]}
        payload: Any = HetongRowChanged(
            contract_no=line["合同编号"],
            product_id=line["产品ID"],
            version=1,
            content_hash=hashlib.sha256(orjson.dumps(line, option=orjson.OPT_SORT_KEYS)).hexdigest(),
            row=line,
            source="local_system",
            client_id="r5-producer",
            received_at=now,
        )
        topic, key, capture = LINES, f"{line['合同编号']}/{line['产品ID']}", None
    else:
        capture = customer_workload(1, rng, f"{prefix}X{i}-")[0]
        fields = {k: v for k, v in capture.items() if k not in ("wechat_id", "captured_at")}
        payload = WechatCustomerCaptured(
            wechat_id=capture["wechat_id"],
            version=1,
            captured_at=datetime.fromisoformat(capture["captured_at"]),
            client_id="r5-producer",
            fields=fields,
        )
        topic, key, line = CAPTURES, capture["wechat_id"], None
    envelope = Envelope[Any](
        event_id=uuid.UUID(event_id),
        event_type=type(payload).__name__,
        source="ingest",
        correlation_id=f"r5-{i}",
        payload=payload,
    )
    fixed = orjson.dumps(envelope.model_dump(mode="json"))
    if kind == "undecodable":
        sent = b"\xff\xfe\x00" + fixed[:40]  # truncated and not UTF-8: nothing can decode it
    else:  # valid JSON, but the payload lacks its required version: schema-invalid
        broken = orjson.loads(fixed)
        del broken["payload"]["version"]
        sent = orjson.dumps(broken)
    return Poison(topic, kind, event_id, key, sent, fixed, line, capture)


async def _letters(poisons: list[Poison]) -> dict[str, list[DeadLetter]] | None:
    ids = {p.event_id for p in poisons}
    out: dict[str, list[DeadLetter]] = {}
    for topic in {p.topic for p in poisons}:
        for d in await read_all(KAFKA, f"{topic}.dlq"):
            if d.headers.get("event_id") in ids:
                out.setdefault(d.headers["event_id"], []).append(d)
    return out if len(out) == len(ids) else None


def _check_letters(poisons: list[Poison], letters: dict[str, list[DeadLetter]]) -> None:
    wrong = []
    for p in poisons:
        got = letters[p.event_id]
        if len(got) != 1:
            wrong.append(f"{p.kind} {p.event_id} on {p.topic}: {len(got)} dead letters, expected 1")
            continue
        d = got[0]
        if d.value != p.sent:
            wrong.append(f"{p.kind} {p.event_id}: dead letter bytes differ from the original")
        if not d.headers.get("dlq-error") or d.headers.get("dlq-original-topic") != p.topic:
            wrong.append(f"{p.kind} {p.event_id}: reason headers missing: {d.headers}")
        if d.headers.get("dlq-attempts") != "1":
            wrong.append(
                f"{p.kind} {p.event_id}: permanent error took {d.headers.get('dlq-attempts')} attempts"
            )
    assert not wrong, "\n".join(wrong)


async def _valid_applied(admin: asyncpg.Connection, prefix: str, ref: Reference) -> bool:
    lines = await admin.fetchval(
        "SELECT count(*) FROM transform.hetong_original WHERE contract_no LIKE $1", prefix + "%"
    )
    customers = await admin.fetchval(
        "SELECT count(*) FROM rules.customers_unified WHERE wechat_id = any($1::text[])", list(ref.customers)
    )
    return bool(lines == len(ref.lines) and customers == len(ref.customers))


async def _fixed(admin: asyncpg.Connection, prefix: str, ref: Reference) -> str | None:
    """The digest of what transform and rules hold equals the reference's (None while they differ)."""
    rows = await admin.fetch(
        "SELECT contract_no, product_id, version, row::text AS row FROM transform.hetong_original"
        " WHERE contract_no LIKE $1 ORDER BY contract_no, product_id",
        prefix + "%",
    )
    stored_lines = [(r["contract_no"], r["product_id"], r["version"], orjson.loads(r["row"])) for r in rows]
    expected_lines = [(*k, ref.line_versions[k], ref.lines[k]) for k in sorted(ref.lines)]
    customers = await admin.fetch(
        "SELECT wechat_id, capture_version, company_name, phone, email FROM rules.customers_unified"
        " WHERE wechat_id = any($1::text[]) ORDER BY wechat_id",
        list(ref.customers),
    )
    stored_c = [tuple(r) for r in customers]
    expected_c = [
        (w, ref.capture_versions[w], c["company_name"], c["phone"], c["email"])
        for w, c in sorted(ref.customers.items())
    ]
    if stored_lines != expected_lines or stored_c != expected_c:
        return None
    return hashlib.md5(orjson.dumps([expected_lines, expected_c], option=orjson.OPT_SORT_KEYS)).hexdigest()  # noqa: S324


async def _diff(admin: asyncpg.Connection, prefix: str, ref: Reference) -> str:
    """Which lines and customers differ from the reference, and how."""
    lines = {
        (r["contract_no"], r["product_id"]): (r["version"], orjson.loads(r["row"]))
        for r in await admin.fetch(
            "SELECT contract_no, product_id, version, row::text AS row FROM transform.hetong_original"
            " WHERE contract_no LIKE $1",
            prefix + "%",
        )
    }
    out = [f"line {k}: missing" for k in ref.lines.keys() - lines.keys()]
    out += [f"line {k}: not in the reference" for k in lines.keys() - ref.lines.keys()]
    out += [
        f"line {k}: stored (version {lines[k][0]}, row {lines[k][1]}) != ({ref.line_versions[k]}, {row})"
        for k, row in ref.lines.items()
        if k in lines and lines[k] != (ref.line_versions[k], row)
    ]
    caps = {
        r["wechat_id"]: r
        for r in await admin.fetch(
            "SELECT wechat_id, capture_version, company_name, phone, email FROM rules.customers_unified"
            " WHERE wechat_id = any($1::text[])",
            list(ref.customers),
        )
    }
    out += [f"customer {w}: missing" for w in ref.customers.keys() - caps.keys()]
    for w, c in ref.customers.items():
        got = caps.get(w)
        want = (ref.capture_versions[w], c["company_name"], c["phone"], c["email"])
        if got is not None and tuple(got)[1:] != want:
            out.append(f"customer {w}: stored {tuple(got)[1:]} != accepted {want}")
    return "\n".join(out[:40])
