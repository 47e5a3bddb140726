"""A small cache of computed views, keyed by the head (`service.log.head.ViewHead`).

The key includes the head, the log's position and the views' generation, so a
view computed before an append or a rebuild is never served after it: several
processes on one database can each cache safely.
A view is computed once however many requests ask for it at the same time:
after an append, the first reader folds and the others wait for its answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ViewCache:
    """At most `size` entries and, when `weigh` is given, at most `max_weight` of what it
    weighs (bytes, say: at a million events one rendered view runs to megabytes)."""

    def __init__(
        self,
        size: int = 512,
        *,
        weigh: Callable[[Any], int] | None = None,
        max_weight: int = 0,
    ) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Event] = {}
        self._size = size
        self._weigh = weigh
        self._max_weight = max_weight
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The cached value, or None (cheap: no waiting on a computation)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._store(key, value)

    def _store(self, key: Hashable, value: Any) -> None:
        if key in self._entries:
            self._weight -= self._weight_of(self._entries[key])
        self._entries[key] = value
        self._entries.move_to_end(key)
        self._weight += self._weight_of(value)
        while len(self._entries) > self._size or (
            self._weigh is not None and self._weight > self._max_weight and len(self._entries) > 1
        ):
            _, dropped = self._entries.popitem(last=False)
            self._weight -= self._weight_of(dropped)

    def _weight_of(self, value: Any) -> int:
        return self._weigh(value) if self._weigh is not None else 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        while True:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    value: T = self._entries[key]
                    return value
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    break
            running.wait()  # then take its value, or compute if it failed
        try:
            value = compute()
            with self._lock:
                self._store(key, value)
            return value
        finally:
            with self._lock:
                del self._computing[key]
            running.set()
