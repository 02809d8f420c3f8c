"""GET /sync/erp/status: what an operator needs to know at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from erp_connector.adapters import repository as repo

if TYPE_CHECKING:
    import asyncpg

    from erp_connector.service_layer.control import ConnectorControl
    from erp_connector.service_layer.ports import AbstractErpClient
    from erp_connector.service_layer.scheduler import SyncScheduler


async def sync_status(
    pool: asyncpg.Pool,
    control: ConnectorControl,
    client: AbstractErpClient,
    scheduler: SyncScheduler,
    budget_remaining: float,
) -> dict[str, Any]:
    failures = await repo.failures_last_hour(pool)
    auth = client.auth_error
    return {
        "state": control.state.value,
        "reason": control.current.reason,
        "login_rejected": None if auth is None else {"class": type(auth).__name__, "message": auth.message},
        "breaker": {
            "state": client.breaker_state.name.lower(),
            "retry_in_s": round(client.breaker_retry_in(), 1),
        },
        **await repo.last_syncs(pool),
        "backlog": await repo.backlog(pool),
        "failures_last_hour": failures["runs"] + failures["pushes"],
        "failures_last_hour_detail": failures,
        "customers": await repo.hash_counts(pool),
        "schedule": scheduler.snapshot(),
        "rate_limit_tokens": round(budget_remaining, 2),
    }
