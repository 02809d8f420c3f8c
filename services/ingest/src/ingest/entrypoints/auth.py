"""ingest's token check: the common Bearer check, plus client status, token version and the client's own rate
limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Security

from common.bearer import BearerAuth, TokenClaims, unauthorized
from common.openapi import secured
from common.rate_limit import Limit
from ingest.entrypoints.context import Ctx, Limiter
from ingest.service_layer.access import TokenRefusedError


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    scopes: frozenset[str]


# The common Bearer check without the shared per-client limit: ingest limits each client by its own row below.
BEARER = secured(BearerAuth(limit_clients=False))


async def _caller(claims: Annotated[TokenClaims, Security(BEARER)], ctx: Ctx, limiter: Limiter) -> Caller:
    """Signature, time, issuer, audience and scope are checked by BEARER; the client's row is ingest's own."""
    try:
        client = await ctx.token_client(claims.client_id, claims.version)
    except TokenRefusedError as exc:
        raise unauthorized("invalid_token", str(exc), "invalid_token") from None
    # The shared per-client limit (common.rate_limit), with this client's limits from its row (the CLI).
    await limiter.check_client(
        client.client_id, Limit(per_minute=client.rate_per_minute, per_day=client.rate_per_day)
    )
    await ctx.last_seen.touch(client.client_id)
    return Caller(client.client_id, claims.scopes)


def require(scope: str) -> Any:
    """`Annotated[Caller, require("contracts:write")]`; the scope shows in the OpenAPI document."""
    return Security(_caller, scopes=[scope])
