"""A small cache of computed views, keyed by the log's head position.

The key includes the head, so a view computed before an append is never
served after it: several processes on one database can each cache safely.
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
    def __init__(self, size: int = 512) -> None:
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Event] = {}
        self._size = size
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
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

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
