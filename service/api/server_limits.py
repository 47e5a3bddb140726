"""What the HTTP server itself refuses: heads too large, clients too slow.

`labor-ledger serve` runs uvicorn with these options (`uvicorn_limits`):
- the h11 parser, which bounds a request's head (request line and headers) at
  LEDGER_MAX_HEADER_BYTES (16 KiB): beyond it, a 400 and the connection closed.
  httptools, uvicorn's faster parser, buffers a head of any size (an 8 MB header
  was accepted);
- a head deadline: a connection that has not sent a whole request head within
  LEDGER_REQUEST_HEAD_TIMEOUT_SECONDS of opening (or of its last answer) is closed,
  so clients trickling a byte a second cannot hold connections for ever (uvicorn
  alone waits as long as bytes keep coming);
- keep-alive: an idle connection is closed after LEDGER_KEEP_ALIVE_SECONDS.
Behind a reverse proxy, set its own limits too (nginx: `client_header_timeout`,
`large_client_header_buffers`).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.settings import Settings


class HeadDeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head is too slow."""

    def __init__(self, *args: Any, head_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = head_timeout
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        self._head_deadline = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        # Still waiting for a request's head (h11 holds a partial head as IDLE), and
        # no request in hand: the client is too slow. A request being answered, or a
        # stream being sent, is never cut here.
        waiting = self.conn.their_state is h11.IDLE
        in_hand = self.cycle is not None and not self.cycle.response_complete
        if waiting and not in_hand and not self.transport.is_closing():
            self.transport.close()


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """Options for `uvicorn.run` / `uvicorn.Config`."""
    return {
        "http": functools.partial(
            HeadDeadlineH11Protocol, head_timeout=settings.request_head_timeout_seconds
        ),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "timeout_keep_alive": settings.keep_alive_seconds,
    }
