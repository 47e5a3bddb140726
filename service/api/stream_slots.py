"""Caps on open event streams: per client address and in all, in this process.

A stream holds a connection, a task and, while it catches up, a page of events; 100
anonymous streams from `after=0` once pulled a gigabyte in 30 s and slowed `/healthz`
to 10 s. A client over its share is told so (429 /problems/too-many-streams); a
process at its total says it is full (503 /problems/streams-full); both with
`Retry-After`. Counted in this process (with N workers, N times each cap).

While a stream catches up it holds at most one page (500 events) in memory: a page is
read only when the last one was handed to the server, and uvicorn's `send` waits while
the client's socket buffer is full, so a slow reader slows only its own stream.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Refusal = Literal["address", "total"]
RETRY_AFTER_SECONDS = 10


@dataclass
class StreamSlots:
    per_address: int
    total: int
    _open: Counter[str] = field(default_factory=Counter)

    def claim(self, address: str) -> Refusal | None:
        """Take a slot for a new stream from `address`, or say why there is none.
        Called on the event loop, so no lock is needed."""
        if self._open[address] >= self.per_address:
            return "address"
        if self._open.total() >= self.total:
            return "total"
        self._open[address] += 1
        return None

    def release(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    @property
    def open(self) -> int:
        return self._open.total()
