"""Test-only entry point: the shared outbox relay alone in a process, so a scenario can SIGKILL it (R2).

usage: python -m tests.support.relay_main <schema>   (PostgreSQL and Kafka from the stack's test environment)
"""

from __future__ import annotations

import asyncio
import logging
import sys

from pydantic import SecretStr

from common.db import create_pool
from common.relay import OutboxRelay
from common.settings import KafkaSettings, PostgresSettings
from tests.support.stack import KAFKA_BOOTSTRAP, PG_PORT


async def main(schema: str) -> None:
    # The local cluster trusts loopback: the admin role needs no password.
    pg = PostgresSettings(port=PG_PORT, user="rollsync_admin", password=SecretStr("unused"))
    kafka = KafkaSettings(bootstrap_servers=KAFKA_BOOTSTRAP, client_id="r2")
    pool = await create_pool(pg, schema)
    relay = OutboxRelay(pool, pg, kafka, schema, batch_size=200)
    while True:  # a relay restarted while the broker is down waits for it, as a service's start-up does
        try:
            await relay.start()
            break
        except Exception as exc:
            logging.warning("relay start failed, retrying: %s", exc)
            await asyncio.sleep(1)
    print("relay ready", flush=True)  # noqa: T201 - the test waits for this line
    await asyncio.Event().wait()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(sys.argv[1]))
