"""What the routes need, wired by main.create_app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

    from common.bearer import TokenVerifier
    from erp_connector.domain.rate_limit import TokenBucket
    from erp_connector.service_layer.control import ConnectorControl
    from erp_connector.service_layer.ports import AbstractErpClient
    from erp_connector.service_layer.push import PushWorker
    from erp_connector.service_layer.scheduler import SyncScheduler


@dataclass
class Context:
    pool: asyncpg.Pool
    tokens: TokenVerifier
    control: ConnectorControl
    client: AbstractErpClient
    scheduler: SyncScheduler
    push_worker: PushWorker
    limiter: TokenBucket
