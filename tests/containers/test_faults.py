"""Faults on the compose stack: a service container killed mid-import, the Kafka container restarted.

The kill is a real SIGKILL to the container's main process, sent from the host (what an OOM kill or a crash
does). `docker kill` itself marks the container as stopped by hand, and Docker's restart policy then does not
restart it (moby: killWithSignal sets HasBeenManuallyStopped); a crash is what `restart: unless-stopped` is for.
"""

from __future__ import annotations

import os
import signal
import threading
import uuid
from functools import partial
from typing import Any

import httpx

from tests.containers.conftest import login
from tests.containers.stack import EDGE_CA, READY_PORTS, container_id, docker, psql, readyz, states, wait_for
from tests.support.seed000 import SEED_ROW

LINES = 600
CHUNK = 50


def _rows(prefix: str) -> list[dict[str, Any]]:
    return [
        {**SEED_ROW, "合同编号": f"{prefix}{i // 3:05d}", "产品ID": f"P{prefix}{i:05d}"} for i in range(LINES)
    ]


def _restarts(service: str) -> int:
    return int(docker("inspect", "-f", "{{.RestartCount}}", container_id(service)).strip())


def _crash(service: str) -> None:
    pid = int(docker("inspect", "-f", "{{.State.Pid}}", container_id(service)).strip())
    assert pid > 0
    os.kill(pid, signal.SIGKILL)


def test_transform_killed_mid_import_loses_and_duplicates_no_line(
    http: httpx.Client, client: tuple[str, str]
) -> None:
    auth = login(http, client)
    prefix = f"K{uuid.uuid4().hex[:6].upper()}"
    rows = _rows(prefix)
    restarts = _restarts("transform")
    accepted: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=http.base_url, timeout=60, verify=EDGE_CA) as sender:
            for at in range(0, LINES, CHUNK):
                body = {"contracts": rows[at : at + CHUNK], "overwrite": True, "source": "local_system"}
                r = sender.post("/sync/contracts/batch", json=body, headers=auth)
                assert r.status_code == 200, r.text
                accepted.append(r.json()["accepted"])

    sender = threading.Thread(target=send)
    sender.start()
    count = f"SELECT count(*) FROM transform.products WHERE product_id LIKE 'P{prefix}%'"
    wait_for(lambda: int(psql(count)) > 0, timeout_s=300, every_s=0.5)  # transform is consuming: kill it now
    _crash("transform")
    sender.join(timeout=600)
    assert sum(accepted) == LINES

    wait_for(lambda: _restarts("transform") > restarts and states()["transform"]["Health"] == "healthy")
    wait_for(lambda: int(psql(count)) == LINES, timeout_s=600)
    distinct = f"SELECT count(DISTINCT product_id) FROM transform.products WHERE product_id LIKE 'P{prefix}%'"
    assert int(psql(distinct)) == LINES


def test_services_recover_after_the_kafka_container_restarts(
    http: httpx.Client, client: tuple[str, str]
) -> None:
    docker("restart", container_id("kafka"))
    for service in READY_PORTS:
        wait_for(partial(readyz, service), timeout_s=300)
    auth = login(http, client)
    prefix = f"R{uuid.uuid4().hex[:6].upper()}"
    body = {"contracts": _rows(prefix)[:3], "overwrite": True, "source": "local_system"}
    r = http.post("/sync/contracts/batch", json=body, headers=auth)
    assert r.status_code == 200, r.text
    count = f"SELECT count(*) FROM transform.products WHERE product_id LIKE 'P{prefix}%'"
    wait_for(lambda: int(psql(count)) == 3, timeout_s=300)
