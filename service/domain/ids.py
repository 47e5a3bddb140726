"""UUIDv7 ids, a batch at a time (RFC 9562, section 5.7).

An append of a thousand events asked `uuid6.uuid7` a thousand times, and each
asked the operating system for randomness: 6% of a batch POST's time. Here one
call to `os.urandom` serves a whole batch. Ids stay in creation order within a
process, as uuid6's do (the facts table's key is an event id: ordered keys
append to its index instead of landing all over it): in one millisecond the
12 bits after the version count up (the RFC's "fixed bit-length dedicated
counter", method 1), and a clock that goes back is not followed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from uuid import UUID

_COUNTER_LIMIT = 1 << 12  # ids per millisecond before the time field runs ahead
_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
_RANDOM_BITS = (1 << 62) - 1


class Uuid7Source:
    """Hands out increasing UUIDv7 values; safe to share between threads."""

    def __init__(
        self,
        clock_ns: Callable[[], int] = time.time_ns,
        entropy: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._clock_ns = clock_ns
        self._entropy = entropy
        self._lock = threading.Lock()
        self._last_ms = 0
        self._counter = -1

    def take(self, count: int) -> list[UUID]:
        randomness = self._entropy(8 * count)
        ids: list[UUID] = []
        with self._lock:
            now_ms = self._clock_ns() // 1_000_000
            if now_ms > self._last_ms:
                self._last_ms, self._counter = now_ms, -1
            for index in range(count):
                self._counter += 1
                if self._counter == _COUNTER_LIMIT:  # over 4M ids a second: borrow a ms
                    self._last_ms, self._counter = self._last_ms + 1, 0
                random = int.from_bytes(randomness[8 * index : 8 * index + 8]) & _RANDOM_BITS
                ids.append(
                    UUID(
                        int=(self._last_ms << 80)
                        | _VERSION_7
                        | (self._counter << 64)
                        | _VARIANT_RFC
                        | random
                    )
                )
        return ids
