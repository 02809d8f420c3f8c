"""The whole stack as `make up` starts it (scripts/stack.sh), run with canary secrets, and the places a leaked
secret would end up: every log file, a dump of the database and every message of every Kafka topic."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tests.support.stack import KAFKA_BOOTSTRAP, PG_PORT, ROOT, TEST_PORTS

LOCAL = ROOT / ".local"
SECRETS_ENV = LOCAL / "secrets.env"
STACK_ENV = LOCAL / "stack.env"
SIGNING_KEY = LOCAL / "secrets" / "token-signing.pem"  # ingest's private key, made by scripts/stack.sh
SECRET_VARS = (
    "PG_INGEST",
    "PG_TRANSFORM",
    "PG_RULES",
    "PG_ERP",
    "DEV_CLIENT_SECRET",
    "ERP_PASSWORD",
)
EDGE_PORT = TEST_PORTS["ingest"] + 379  # this test's own edge, beside the tests' service ports
# The stack's processes on the tests' ports (the session's own processes are stopped meanwhile).
STACK_PORTS = {
    "ROLLSYNC_INGEST_PORT": TEST_PORTS["ingest"],
    "ROLLSYNC_TRANSFORM_PORT": TEST_PORTS["transform"],
    "ROLLSYNC_RULES_PORT": TEST_PORTS["rules"],
    "ROLLSYNC_ERP_CONNECTOR_PORT": TEST_PORTS["erp-connector"],
    "ROLLSYNC_TRANSFORM_PROGRESS_PORT": TEST_PORTS["transform-progress"],
    "ROLLSYNC_ERP_SIMULATOR_PORT": TEST_PORTS["erp-simulator"],
    "ROLLSYNC_EDGE_PORT": EDGE_PORT,
    "ROLLSYNC_PROMETHEUS_PORT": TEST_PORTS["prometheus"] + 4,
    "ROLLSYNC_ALERTMANAGER_PORT": TEST_PORTS["prometheus"] + 5,
    "ROLLSYNC_SMTP_SINK_PORT": TEST_PORTS["prometheus"] + 6,
    "ROLLSYNC_WEBHOOK_SINK_PORT": TEST_PORTS["prometheus"] + 7,
}


def canaries() -> dict[str, str]:
    """One distinctive random string per secret: found anywhere, it can only have come from that secret."""
    return {var: f"Canary{var.title().replace('_', '')}{secrets.token_hex(12)}" for var in SECRET_VARS}


def stack_env() -> dict[str, str]:
    return {**os.environ, **{k: str(v) for k, v in STACK_PORTS.items()}}


def stack(*args: str, timeout_s: float = 600) -> None:
    done = subprocess.run(
        [str(ROOT / "scripts" / args[0]), *args[1:]],
        env=stack_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    assert done.returncode == 0, f"scripts/{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@dataclass
class SwappedSecrets:
    """`.local/secrets.env` (and `.local/stack.env`) replaced by canaries; `restore` puts the originals back."""

    original: str
    original_stack_env: str | None

    @classmethod
    def install(cls, values: dict[str, str]) -> SwappedSecrets:
        kept = cls(SECRETS_ENV.read_text(), STACK_ENV.read_text() if STACK_ENV.exists() else None)
        _write_private(SECRETS_ENV, "".join(f"{k}={v}\n" for k, v in values.items()))
        return kept

    def restore(self) -> None:
        _write_private(SECRETS_ENV, self.original)
        if self.original_stack_env is not None:
            _write_private(STACK_ENV, self.original_stack_env)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    tmp.replace(path)


def log_files() -> list[Path]:
    """Every log the stack writes: .local/logs/ (postgres.log may be a link) and any *.log outside the data
    directories of Kafka and PostgreSQL (whose `.log` files are Kafka's message segments: read as messages)."""
    found = {p for p in (LOCAL / "logs").rglob("*") if p.is_file()}
    for p in LOCAL.rglob("*.log"):
        parts = p.relative_to(LOCAL).parts
        if parts[0] not in ("kafka", "pg") and p.is_file():
            found.add(p)
    mail = LOCAL / "alerting"
    if mail.exists():
        found |= {p for p in mail.rglob("*") if p.is_file() and p.suffix in (".eml", ".json", ".log")}
    return sorted(found)


def pg_dump_lines() -> list[str]:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), key=lambda p: int(p.parts[-3]))
    pg_dump = str(versions[-1]) if versions else shutil.which("pg_dump") or "pg_dump"
    done = subprocess.run(
        [pg_dump, "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "rollsync_admin", "rollsync"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout.splitlines()


async def kafka_messages() -> tuple[list[str], list[tuple[str, bytes]]]:
    """Every topic (.dlq twins included) and (topic, bytes) for each of its messages: key, value, headers."""
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if not t.startswith("__")]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    layout = {d["topic"]: sorted(p["partition"] for p in d["partitions"]) for d in described}
    consumer = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    out: list[tuple[str, bytes]] = []
    try:
        for topic, numbers in sorted(layout.items()):
            parts = [TopicPartition(topic, p) for p in numbers]
            assert parts, f"{topic} has no partitions"
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            deadline = time.monotonic() + 120
            while any([await consumer.position(tp) < ends[tp] for tp in parts]):
                assert time.monotonic() < deadline, f"could not read {topic} to its end in 120 s"
                batch = await consumer.getmany(*parts, timeout_ms=2000, max_records=5000)
                for records in batch.values():
                    for r in records:
                        blob = b"\0".join(
                            [r.key or b"", r.value or b"", *(n.encode() + b"=" + v for n, v in r.headers)]
                        )
                        out.append((topic, blob))
    finally:
        await consumer.stop()
    return sorted(layout), out
