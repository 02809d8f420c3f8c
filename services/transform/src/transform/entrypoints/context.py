"""What routes get from the composition root (bootstrap builds it; `Ctx` hands it to a route)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

if TYPE_CHECKING:
    import asyncpg

    from common.bearer import TokenVerifier
    from transform.config import Settings
    from transform.service_layer.configuration import ConfigurationCache
    from transform.service_layer.ports import FeedReader, ReconciliationStore, UowFactory


@dataclass
class Context:
    settings: Settings
    pool: asyncpg.Pool  # the read side's queries (adapters/queries.py)
    tokens: TokenVerifier  # common.bearer finds it at app.state.ctx.tokens
    config: ConfigurationCache
    start: UowFactory  # a unit of work on its own transaction
    feed: FeedReader
    reconciliation: ReconciliationStore


async def app_context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(app_context)]
