"""Inspect and replay a dead-letter topic (DELIVERY.md §6).

    python -m common.replay ingest.hetong-row-changed.v1.dlq                      # list (dry run)
    python -m common.replay ingest.hetong-row-changed.v1.dlq --event-id ID --apply
    python -m common.replay TOPIC.dlq --key HT2023001/P1 --since 2024-05-01T00:00:00Z --apply

Replaying re-publishes the original bytes to the original topic with the same event id and a
`replay-of` header; the consumer's inbox lets a dead event apply once, so replaying twice is harmless.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from common.delivery import REPLAY_HEADER
from common.relay import safe_producer
from common.settings import KafkaSettings


@dataclass(frozen=True, slots=True)
class DeadLetter:
    partition: int
    offset: int
    timestamp: datetime
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def original_topic(self) -> str:
        return self.headers.get("dlq-original-topic", "")

    def replay_headers(self, dlq_topic: str) -> list[tuple[str, bytes]]:
        kept = {k: v for k, v in self.headers.items() if not k.startswith("dlq-")}
        kept[REPLAY_HEADER] = f"{dlq_topic}:{self.partition}:{self.offset}"
        return [(k, v.encode()) for k, v in kept.items()]


def matches(d: DeadLetter, args: argparse.Namespace) -> bool:
    if args.event_id and d.headers.get("event_id") not in args.event_id:
        return False
    if args.key and (d.key or b"").decode("utf-8", "replace") not in args.key:
        return False
    if args.since and d.timestamp < args.since:
        return False
    return not (args.until and d.timestamp > args.until)


async def read_all(kafka: KafkaSettings, topic: str) -> list[DeadLetter]:
    """Every record now in the topic, read without a consumer group (nothing is committed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            return []
        consumer.subscribe([topic])  # no group: every partition is assigned to us, nothing is committed
        out: list[DeadLetter] = []
        batch = await consumer.getmany(timeout_ms=2000)
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        while True:
            for records in batch.values():
                out += [_letter(r) for r in records]
            if not [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                return out
            batch = await consumer.getmany(timeout_ms=1000)
    finally:
        await consumer.stop()


def _letter(r: object) -> DeadLetter:
    headers = {k: bytes(v or b"").decode("utf-8", "replace") for k, v in (r.headers or ())}  # type: ignore[attr-defined]
    at = datetime.fromtimestamp(r.timestamp / 1000, UTC)  # type: ignore[attr-defined]
    return DeadLetter(r.partition, r.offset, at, r.key, r.value or b"", headers)  # type: ignore[attr-defined]


def describe(letters: list[DeadLetter]) -> Iterator[str]:
    for d in letters:
        yield (
            f"{d.partition}:{d.offset}\t{d.timestamp.isoformat()}\tevent {d.headers.get('event_id', '?')}"
            f"\tkey {(d.key or b'').decode('utf-8', 'replace')}\t-> {d.original_topic}"
            f"\t{d.headers.get('dlq-error', '')[:160]}"
            f"\tattempts {d.headers.get('dlq-attempts', '?')}"
        )


async def replay(kafka: KafkaSettings, dlq_topic: str, letters: list[DeadLetter]) -> int:
    producer = safe_producer(kafka, "rollsync-replay")
    await producer.start()
    try:
        for d in letters:
            await producer.send_and_wait(
                d.original_topic, d.value, key=d.key, headers=d.replay_headers(dlq_topic)
            )
    finally:
        await producer.stop()
    return len(letters)


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m common.replay",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("topic", help="a dead-letter topic, <topic>.dlq")
    p.add_argument("--bootstrap", default="127.0.0.1:19092")
    p.add_argument("--event-id", action="append", help="only these event ids (repeatable)")
    p.add_argument("--key", action="append", help="only these keys (repeatable)")
    p.add_argument("--since", type=_time, help="dead-lettered at or after (ISO-8601)")
    p.add_argument("--until", type=_time, help="dead-lettered at or before (ISO-8601)")
    p.add_argument("--apply", action="store_true", help="re-publish; without it nothing is sent (dry run)")
    return p


async def _main(args: argparse.Namespace) -> int:
    if not args.topic.endswith(".dlq"):
        raise SystemExit("replay: give a dead-letter topic (<topic>.dlq)")
    kafka = KafkaSettings(bootstrap_servers=args.bootstrap)
    selected = [d for d in await read_all(kafka, args.topic) if matches(d, args)]
    for line in describe(selected):
        sys.stdout.write(line + "\n")
    if not args.apply:
        sys.stdout.write(f"dry run: {len(selected)} dead letter(s) selected; add --apply to replay them\n")
        return 0
    sent = await replay(kafka, args.topic, [d for d in selected if d.original_topic])
    sys.stdout.write(f"replayed {sent} of {len(selected)} dead letter(s)\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(_main(_parser().parse_args())))
    except (KafkaError, OSError) as exc:
        sys.exit(f"replay: {type(exc).__name__}: {exc}")
