"""The webhook HTTP client: it connects only where the target rules allow, and gives each
delivery a total deadline.

The addresses are checked at the moment of connecting, and the connection is made to
the very address checked: a name cannot resolve to a public address for the check and
to `127.0.0.1` for the connection (DNS rebinding). A refused target raises
`RefusedTarget` before any packet leaves. httpx's per-operation timeouts let a receiver
that trickles a byte every few seconds hold a delivery for ever; the deadline bounds
every read and write of one delivery together.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from service.follow.targets import TargetRules

_deadline: ContextVar[float | None] = ContextVar("webhook_delivery_deadline", default=None)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every connect, read and write of the requests made inside ends by `seconds` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def guarded_client(
    rules: TargetRules, timeout: httpx.Timeout, headers: dict[str, str], max_connections: int
) -> httpx.Client:
    """An httpx client whose every connection goes through `rules`; no proxy from the
    environment (its address would be checked, not the target's), no redirects."""
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx takes no network backend of its own: its pool is replaced by one with ours.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=5.0,
        network_backend=_GuardedBackend(rules),
    )
    return httpx.Client(
        transport=transport,
        timeout=timeout,
        headers=headers,
        trust_env=False,
        follow_redirects=False,
    )


def _within_deadline(timeout: float | None, expired: type[Exception]) -> float | None:
    ends = _deadline.get()
    if ends is None:
        return timeout
    remaining = ends - time.monotonic()
    if remaining <= 0:
        raise expired("the delivery ran out of time")
    return remaining if timeout is None else min(timeout, remaining)


class _GuardedBackend(httpcore.SyncBackend):
    def __init__(self, rules: TargetRules) -> None:
        self._rules = rules

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        # Raises RefusedTarget, which httpx passes through untouched.
        addresses = (
            [host]
            if self._rules.allow_private
            else [str(a) for a in self._rules.addresses(host, port)]
        )
        failure: Exception = httpcore.ConnectError("no address to connect to")
        for address in addresses:
            try:
                stream = super().connect_tcp(
                    address,
                    port,
                    _within_deadline(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as failed:
                failure = failed
                continue
            return _DeadlineStream(stream)
        raise failure


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads and writes stop at the current delivery's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within_deadline(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within_deadline(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # The certificate is checked against the URL's host name, not the address.
        wrapped = self._stream.start_tls(
            ssl_context, server_hostname, _within_deadline(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(wrapped)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
