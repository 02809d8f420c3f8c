"""Process entrypoint: check configuration and dependencies, then serve.

Bad configuration stops a service with one clear log line, not a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import asyncpg
import uvicorn
from aiokafka import AIOKafkaClient
from pydantic import ValidationError
from pydantic_settings import SettingsError

from common.gc_tuning import tune_collector
from common.logs import configure_logging

if TYPE_CHECKING:
    from fastapi import FastAPI

    from common.settings import ServiceSettingsMixin

log = logging.getLogger("rollsync.startup")
# Shutdown budget inside the pods' 30 s grace period (terminationGracePeriodSeconds), stop <= 25 s:
# requests in flight get HTTP_DRAIN_S, then the lifespan closes consumers (common.kafka.CONSUMER_DRAIN_S),
# the relay and the pool (common.service.CLOSE_S). A request cut off is rolled back: retried with its
# Idempotency-Key, it is safe.
HTTP_DRAIN_S = 10
S = TypeVar("S", bound="ServiceSettingsMixin")


def _fail(message: str) -> None:
    log.error(message)
    sys.exit(1)


def load_settings(factory: Callable[[], S], service: str, prefix: str) -> S:
    configure_logging(service)
    try:
        return factory()
    except ValidationError as exc:
        problems = "; ".join(
            f"{prefix}{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        _fail(f"{service}: invalid configuration: {problems}")
        raise  # unreachable; keeps type checkers satisfied
    except SettingsError as exc:  # a <NAME>_FILE that cannot be read (the message names it, never a value)
        _fail(f"{service}: invalid configuration: {exc}")
        raise


async def _check_postgres(settings: ServiceSettingsMixin) -> str | None:
    pg = settings.postgres
    try:
        conn = await asyncpg.connect(
            host=pg.host,
            port=pg.port,
            database=pg.database,
            user=pg.user,
            password=pg.password.get_secret_value(),
            timeout=5,
        )
        await conn.close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        return f"cannot reach PostgreSQL at {pg.host}:{pg.port}/{pg.database} as {pg.user}: {exc}"
    return None


async def _check_kafka(settings: ServiceSettingsMixin) -> str | None:
    client = AIOKafkaClient(bootstrap_servers=settings.kafka.bootstrap_servers, request_timeout_ms=5000)
    quiet = logging.getLogger("aiokafka")
    level, quiet.level = quiet.level, logging.CRITICAL  # our one line says it; aiokafka's would repeat it
    try:
        await asyncio.wait_for(client.bootstrap(), 10)
    except Exception as exc:  # aiokafka raises several unrelated types here
        return f"cannot reach Kafka at {settings.kafka.bootstrap_servers}: {exc}"
    finally:
        await client.close()
        quiet.setLevel(level)
    return None


def _check_port(host: str, port: int) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no conflict
        try:
            s.bind((host, port))
        except OSError as exc:
            return f"port {host}:{port} is not available ({exc.strerror}); set a free port"
    return None


def serve(
    service: str,
    settings: S,
    create_app: Callable[[S], FastAPI],
    check: Callable[[S], str | None] | None = None,
) -> None:
    """`check` is the service's own start-up check (a key file, say): a problem it names stops the start."""
    configure_logging(service, settings.log_level)
    problem = (
        (check(settings) if check else None)
        or _check_port(settings.host, settings.port)
        or asyncio.run(_preflight(settings))
    )
    if problem:
        _fail(f"{service}: {problem}")
    log.info("%s: starting on http://%s:%s", service, settings.host, settings.port)
    app = create_app(settings)
    tune_collector(settings.gc)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=HTTP_DRAIN_S,
    )


async def _preflight(settings: ServiceSettingsMixin) -> str | None:
    return await _check_postgres(settings) or await _check_kafka(settings)
