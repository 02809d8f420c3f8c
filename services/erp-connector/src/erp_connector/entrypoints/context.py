"""What the routes need, wired by bootstrap and put on app.state by main.create_app's lifespan."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

if TYPE_CHECKING:
    from common.bearer import TokenVerifier
    from erp_connector.service_layer.control import ConnectorControl
    from erp_connector.service_layer.push import PushWorker
    from erp_connector.service_layer.scheduler import SyncScheduler


@dataclass
class Context:
    tokens: TokenVerifier  # common.bearer reads it at app.state.ctx.tokens
    control: ConnectorControl
    scheduler: SyncScheduler
    push_worker: PushWorker
    status: Callable[[], Awaitable[dict[str, Any]]]


async def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(context)]
