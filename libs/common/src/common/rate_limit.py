"""Per-client request limits in the shared request path, counted in PostgreSQL so every replica shares them.

Fixed windows (a minute and a UTC day) per bucket, one upsert per request in the service's own schema
(`rate_limit_hits`, plumbing). The limit holds however many replicas or processes serve the API (transform's
`progress` role included); the price is one short write per authenticated request. Over a limit the answer is
429 `rate_limited` with `Retry-After` (seconds until the window ends).

    limiter = RateLimiter(pool, settings.rate_limit)     # ServiceRuntime.start puts it on app.state
    await limiter.check_client(client_id)                # the settings' limit (or the client's override)
    await limiter.peek(bucket, limit); ...; await limiter.hit(bucket, limit)   # RateLimitedError when over
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from common.db import NO_FLUSH_WAIT
from common.settings import Limit, RateLimitSettings
from common.web import ApiError

if TYPE_CHECKING:
    import asyncpg
    from fastapi import Request

WINDOWS = ((60, "minute"), (86400, "day"))
__all__ = [
    "Limit",
    "RateLimitSettings",
    "RateLimitedError",
    "RateLimiter",
    "enforce_client_limit",
    "rate_limited",
    "source_address",
]


@dataclass(frozen=True, slots=True)
class RateLimitedError(Exception):
    retry_after_s: int
    window: str


def rate_limited(exc: RateLimitedError) -> ApiError:
    """The 429 every service answers over a limit: stable code, seconds to wait in `Retry-After`."""
    unit = "分钟" if exc.window == "minute" else "天"
    return ApiError(
        429,
        "rate_limited",
        f"请求过于频繁（每{unit}限额），{exc.retry_after_s} 秒后重试 / rate limit per {exc.window} exceeded;"
        f" retry after {exc.retry_after_s} s",
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def _window(now: float, seconds: int) -> tuple[datetime, int]:
    start = math.floor(now / seconds) * seconds
    return datetime.fromtimestamp(start, UTC), int(start + seconds - now) + 1


# Counters are not business data: a crash may lose the last increments, so the commit need not wait for the WAL
# flush (NO_FLUSH_WAIT: one statement, one round trip, on every request of every service).
HIT_SQL = (
    "INSERT INTO rate_limit_hits AS r (bucket, window_start, hits)"  # noqa: S608 - constants only
    f" SELECT b, w, $3 FROM unnest($1::text[], $2::timestamptz[]) AS t(b, w) CROSS JOIN {NO_FLUSH_WAIT}"
    " ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + EXCLUDED.hits RETURNING bucket, hits"
)
PEEK_SQL = (
    "SELECT bucket, hits FROM rate_limit_hits"
    " WHERE (bucket, window_start) IN (SELECT * FROM unnest($1::text[], $2::timestamptz[]))"
)


class RateLimiter:
    def __init__(self, pool: asyncpg.Pool, settings: RateLimitSettings) -> None:
        self._pool, self.settings = pool, settings

    async def check_client(self, client_id: str, limit: Limit | None = None) -> None:
        """Count one request of the client; 429 `rate_limited` (an ApiError) once over its limit."""
        try:
            await self.hit(f"client:{client_id}", limit or self.settings.for_client(client_id))
        except RateLimitedError as exc:
            raise rate_limited(exc) from exc

    async def hit(self, bucket: str, limit: Limit) -> None:
        """Count one hit in each window; RateLimitedError when that passes a window's limit."""
        windows = _windows(bucket)
        rows = await self._pool.fetch(HIT_SQL, *_columns(windows), 1)
        _refuse(windows, limit, {r["bucket"]: int(r["hits"]) for r in rows}, full_at=1)

    async def peek(self, bucket: str, limit: Limit) -> None:
        """RateLimitedError when a window is already full, counting nothing (a check before the work).

        Concurrent requests may all pass the peek before any of them counts: a limit checked this way can be
        passed by as many requests as are in flight at once."""
        windows = _windows(bucket)
        rows = await self._pool.fetch(PEEK_SQL, *_columns(windows))
        _refuse(windows, limit, {r["bucket"]: int(r["hits"]) for r in rows}, full_at=0)


Window = tuple[str, datetime, int]  # (bucket:window name, window start, seconds until it ends)


def _windows(bucket: str) -> list[Window]:
    now = datetime.now(UTC).timestamp()
    return [(f"{bucket}:{name}", *_window(now, seconds)) for seconds, name in WINDOWS]


def _columns(windows: list[Window]) -> tuple[list[str], list[datetime]]:
    return [b for b, _, _ in windows], [w for _, w, _ in windows]


def _refuse(windows: list[Window], limit: Limit, hits: dict[str, int], *, full_at: int) -> None:
    """RateLimitedError for the first window with hits >= its limit + `full_at` (1 after counting, 0 on a peek)."""
    for (name, _, retry_after), allowed in zip(windows, (limit.per_minute, limit.per_day), strict=True):
        if hits.get(name, 0) >= allowed + full_at:
            raise RateLimitedError(retry_after, name.rsplit(":", 1)[1])


async def enforce_client_limit(request: Request, client_id: str) -> None:
    """The shared request path's per-client limit, for a caller whose token is already verified.

    `ServiceRuntime.start` puts the service's limiter on `app.state.rate_limiter`; an app without one (unit
    tests wired with fakes) is not limited.
    """
    limiter: RateLimiter | None = getattr(request.app.state, "rate_limiter", None)
    if limiter is not None:
        await limiter.check_client(client_id)


def source_address(request: Request, trusted_proxies: list[str]) -> str:
    """The client's address as the edge reports it (`X-Real-IP`, then the last `X-Forwarded-For` hop), trusted
    only when the connection comes from a trusted proxy; otherwise the connection's own peer address."""
    peer = request.client.host if request.client else ""
    if not _in(peer, trusted_proxies):
        return peer or "unknown"
    reported = request.headers.get("x-real-ip", "").strip()
    if not reported:
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        reported = hops[-1] if hops else ""
    try:
        return str(ipaddress.ip_address(reported))
    except ValueError:
        return peer  # missing or not an address: the proxy itself is the source


def _in(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)
