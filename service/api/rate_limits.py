"""Rate limits: how much one client may ask of the service in a minute.

Three budgets, each counted per client address and, when a request carries a key, per
key as well: reads (GET, HEAD), writes (POST, PUT, PATCH, DELETE) and failed
authentications (answers of 401, per address). A request over a budget is a 429
problem with `Retry-After`; every counted answer says where its client stands in the
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` headers (the IETF
draft's fields: the budget, what is left of it, seconds until the window resets).
While an address's failed-authentication budget is spent, every request from it that
needs or presents a key is refused, so keys cannot be guessed at speed.

Counting is done by the `limits` library in fixed one-minute windows (configurable),
in this process's memory: with N worker processes each keeps its own count, so a
client gets up to N times each budget. The address is the connection's peer: behind
a proxy run uvicorn with `--proxy-headers` and `--forwarded-allow-ips` so that it is
the client's, not the proxy's. Health checks and metrics are never counted.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import problem_response
from service.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NEVER_COUNTED = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass(frozen=True)
class Budgets:
    reads: RateLimitItem
    writes: RateLimitItem
    failed_authentication: RateLimitItem


def budgets_of(settings: Settings) -> Budgets:
    """From the settings, in `limits` notation: `600/minute`, `10/second`, `1000 per hour`."""
    return Budgets(
        parse(settings.rate_limit_reads),
        parse(settings.rate_limit_writes),
        parse(settings.rate_limit_failed_authentication),
    )


@dataclass(frozen=True)
class _Standing:
    budget: str
    limit: int
    remaining: int
    reset_seconds: int


class RateLimits:
    """ASGI middleware: counts each request against its client's budgets."""

    def __init__(self, app: ASGIApp, budgets: Budgets) -> None:
        self.app = app
        self.budgets = budgets
        self.limiter = FixedWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] == "OPTIONS"
            or scope["path"] in NEVER_COUNTED
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        address = scope["client"][0] if scope.get("client") else "unknown"
        key = _key_of(headers.get("authorization"))
        writes = scope["method"] in WRITE_METHODS
        if (writes or key) and not self.limiter.test(
            self.budgets.failed_authentication, "auth", address
        ):
            standing = self._standing(self.budgets.failed_authentication, ("auth", address))
            await self._refuse("failed authentications from this address", standing, scope, send)
            return
        budget, kind = (self.budgets.writes, "writes") if writes else (self.budgets.reads, "reads")
        identities = [(kind, "address", address)] + ([(kind, "key", key)] if key else [])
        allowed = [self.limiter.hit(budget, *identity) for identity in identities]
        standing = min(
            (self._standing(budget, identity) for identity in identities),
            key=lambda s: s.remaining,
        )
        if not all(allowed):
            whose = "key" if allowed[0] else "address"
            await self._refuse(f"{kind} from this {whose}", standing, scope, send)
            return

        async def send_with_standing(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 401:
                    self.limiter.hit(self.budgets.failed_authentication, "auth", address)
                response_headers = MutableHeaders(scope=message)
                for name, value in _rate_headers(standing).items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_standing)

    def _standing(self, budget: RateLimitItem, identity: tuple[str, ...]) -> _Standing:
        stats = self.limiter.get_window_stats(budget, *identity)
        reset = max(math.ceil(stats.reset_time - time.time()), 0)
        return _Standing(str(budget), budget.amount, stats.remaining, reset)

    async def _refuse(self, what: str, standing: _Standing, scope: Scope, send: Send) -> None:
        retry_after = max(standing.reset_seconds, 1)
        response = problem_response(
            429,
            f"Too many {what}: at most {standing.limit} a window; try again in {retry_after} s.",
            headers={"Retry-After": str(retry_after), **_rate_headers(standing)},
        )

        async def no_body() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await response(scope, no_body, send)


def _rate_headers(standing: _Standing) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(standing.limit),
        "RateLimit-Remaining": str(standing.remaining),
        "RateLimit-Reset": str(standing.reset_seconds),
    }


def _key_of(authorization: str | None) -> str | None:
    """A name for the key a request presents (never the key itself, kept in memory)."""
    if not authorization:
        return None
    return hashlib.sha256(authorization.encode()).hexdigest()[:32]
