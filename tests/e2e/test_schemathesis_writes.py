"""Schemathesis on the state-changing operations, with their scope (issue 10), after every other test.

Ingest's writes, the rule book, the sync configuration, the field policies and the ERP sync switch are fuzzed
for real here: generated contracts, reports, employees and captures flow on through Kafka to transform, rules
and the ERP simulator. That is why this test runs last in the session (the `last` marker, tests/conftest.py):
nothing after it depends on clean data. The rules configuration it rewrites and the sync switch it flips are put
back afterwards, so a second `make test` on the same database starts from the same configuration.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.api import create_client, login
from tests.support.fuzz import SERVICES, Run, operation_ids, run_and_gate
from tests.support.stack import ServiceProcess

pytestmark = [pytest.mark.e2e, pytest.mark.last]
RULES_CONFIGURATION = ("erp_sync_rules", "erp_sync_config", "field_policies", "rulebook_version")


@asynccontextmanager
async def rules_configuration_kept(admin: asyncpg.Connection) -> AsyncIterator[None]:
    for table in RULES_CONFIGURATION:
        await admin.execute(f"CREATE TEMP TABLE kept_{table} AS SELECT * FROM rules.{table}")
    try:
        yield
    finally:
        async with admin.transaction():
            await admin.execute(
                "SET LOCAL search_path TO rules"
            )  # its triggers name their tables unqualified
            for table in RULES_CONFIGURATION:
                await admin.execute(f"DELETE FROM rules.{table}")
                await admin.execute(f"INSERT INTO rules.{table} SELECT * FROM kept_{table}")
                await admin.execute(f"DROP TABLE kept_{table}")


@pytest.mark.timeout(1200)
async def test_state_changing_operations_fuzzed_with_their_scope_give_no_gated_failure(
    admin: asyncpg.Connection,
    services: dict[str, ServiceProcess],
    http: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    token = await login(http, services["ingest"].url, *await create_client(admin))
    runs = []
    for service in SERVICES:
        url = services[service].url
        _, changing = await operation_ids(http, url, service)
        runs.append(Run(service, "writes", url, changing, token))
    assert sum(len(r.ids) for r in runs) >= 11, "the state-changing operations are in the documents"
    async with rules_configuration_kept(admin):
        try:
            await run_and_gate(runs, tmp_path)
        finally:
            resumed = await http.post(
                f"{services['erp-connector'].url}/sync/erp/resume",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert resumed.status_code == 200, resumed.text
