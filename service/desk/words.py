"""Numbers said in words, from a row's own data: nothing here knows the seed.

"Between 316 and 484 workers", "at least 200 workers", "no best estimate, because one
report gives only “less than 100”": a bound left open is said to be open, and a best
figure is given only when every report behind it gave one.
"""

from __future__ import annotations

from collections.abc import Sequence

from service.views.deployments.queries import Range

_SMALL = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number(n: int) -> str:
    """1234567 -> "1,234,567"."""
    return f"{n:,}"


def how_many(n: int, noun: str = "report") -> str:
    """3 -> "three reports"; 1 -> "one report"."""
    said = _SMALL[n] if n < len(_SMALL) else number(n)
    return f"{said} {noun}{'' if n == 1 else 's'}"


def bounds(value: Range, noun: str = "workers") -> str:
    """The bounds of a range as a reader says them."""
    low, high = value.min or 0, value.max
    if high is None:
        return f"at least {number(low)} {noun}" if low else f"an unknown number of {noun}"
    if low == high:
        return f"{number(low)} {noun}"
    return f"between {number(low)} and {number(high)} {noun}"


def is_nothing(value: Range) -> bool:
    return value.min in (0, None) and value.max == 0


def best_words(value: Range, vague_counts: Sequence[str]) -> str:
    """Why there is, or is not, one figure to quote."""
    if value.best is not None and value.best_complete:
        return f"the reports' own figures add up to {number(value.best)}"
    if not vague_counts:
        return "no best estimate, because not every report gave a figure"
    quoted = ", ".join(f"“{text}”" for text in vague_counts[:3])
    more = f" and {len(vague_counts) - 3} more" if len(vague_counts) > 3 else ""
    return (
        f"no best estimate, because {how_many(len(vague_counts))} "
        f"give{'s' if len(vague_counts) == 1 else ''} only {quoted}{more}"
    )


def reported_cell(value: Range | None) -> str:
    """A range in a table where an empty range is no report, not a report of zero: a city
    known only by its stock, or a country row with nothing sent, reads "none reported"."""
    if value is None or is_nothing(value):
        return "none reported"
    return range_cell(value)


def range_cell(value: Range | None) -> str:
    """A range in a table cell: "316–484", "≥ 200", "350 (315–385)"."""
    if value is None:
        return ""
    low, high = value.min or 0, value.max
    span = (
        f"≥ {number(low)}"
        if high is None
        else (number(low) if low == high else f"{number(low)}–{number(high)}")
    )
    if value.best is not None and value.best_complete and not (low == high == value.best):
        return f"{number(value.best)} ({span})"
    return span
