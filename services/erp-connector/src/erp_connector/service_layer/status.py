"""GET /sync/erp/status: what an operator needs to know at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from erp_connector.service_layer.control import ConnectorControl
    from erp_connector.service_layer.ports import AbstractErpClient, UnitOfWorkFactory
    from erp_connector.service_layer.scheduler import SyncScheduler


async def sync_status(
    uow: UnitOfWorkFactory,
    control: ConnectorControl,
    client: AbstractErpClient,
    scheduler: SyncScheduler,
    budget_remaining: float,
) -> dict[str, Any]:
    async with uow() as u:
        failures = await u.sync_logs.failures_last_hour()
        stored = {**await u.sync_logs.last_syncs(), "backlog": await u.pushes.backlog()}
        customers = await u.hashes.counts()
    auth = client.auth_error
    return {
        "state": control.state.value,
        "reason": control.current.reason,
        "login_rejected": None if auth is None else {"class": type(auth).__name__, "message": auth.message},
        "breaker": {
            "state": client.breaker_state.name.lower(),
            "retry_in_s": round(client.breaker_retry_in(), 1),
        },
        **stored,
        "failures_last_hour": failures["runs"] + failures["pushes"],
        "failures_last_hour_detail": failures,
        "customers": customers,
        "schedule": scheduler.snapshot(),
        "rate_limit_tokens": round(budget_remaining, 2),
    }
