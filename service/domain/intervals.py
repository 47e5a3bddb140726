"""Interval arithmetic for reported counts: sums and differences with honest bounds.

`None` is an open bound: an unbounded max, or (only in differences) an
unbounded min. `best` is known only when every contribution had one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    min: int | None
    best: int | None
    max: int | None

    @property
    def best_complete(self) -> bool:
        return self.best is not None


ZERO = Bounds(0, 0, 0)


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def add(a: Bounds, b: Bounds) -> Bounds:
    """Sums add bounds; an open bound stays open; best needs both."""
    return Bounds(_add(a.min, b.min), _add(a.best, b.best), _add(a.max, b.max))


def total(parts: list[Bounds]) -> Bounds:
    result = ZERO
    for part in parts:
        result = add(result, part)
    return result


def subtract(a: Bounds, b: Bounds) -> Bounds:
    """a − b = [a.min − b.max, a.max − b.min]; may be negative; open stays open."""

    def minus(x: int | None, y: int | None) -> int | None:
        return None if x is None or y is None else x - y

    return Bounds(minus(a.min, b.max), minus(a.best, b.best), minus(a.max, b.min))


def shared(count: Bounds) -> Bounds:
    """What a count shared with other places adds to one of them: only its max.

    No place gets an invented split, so its min gains 0 and its best is unknown.
    """
    return Bounds(0, None, count.max)


def clamp_at_zero(value: Bounds) -> Bounds:
    """A stock cannot be negative: raise every known bound below 0 to 0."""

    def clamp(x: int | None) -> int | None:
        return None if x is None else max(0, x)

    low = 0 if value.min is None else max(0, value.min)
    return Bounds(low, clamp(value.best), clamp(value.max))
