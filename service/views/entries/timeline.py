"""The entries timeline: arrivals per month (or year) of the period a statistic covers,
by country and purpose.

A statistic is never split: one covering a whole year is, in a monthly timeline, a row of
its own labelled with its span (`2023-01/2023-12`). Statistics in one row may cover the
same arrivals (two publishers' figures for one year, a quarter and one of its months):
where two of them overlap, the row's lower bound is the largest of their lower bounds
(the arrivals are at least those of the largest), its upper bound their sum, and its
best unknown; figures of periods that do not overlap add up.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Row

from service.domain.intervals import Bounds, total
from service.views.deployments.queries import Range
from service.views.entries.queries import NOT_WORKERS, EntriesQuery, current_figures

Interval = Literal["month", "year"]


class EntriesTimelineRow(BaseModel):
    period: str = Field(
        description="`2023-04` (month) or `2023` (year) holding the statistics' periods; a "
        "statistic longer than that is a row of its own, labelled with its span "
        "(`2023-01/2023-12`), or `../2023-12` when it gives only its end."
    )
    country: str = Field(description="The country entered.")
    purpose: str = Field(description="`total` (all arrivals), or a purpose of entry.")
    arrivals: Range
    statistics: int = Field(description="How many statistics the row holds.")
    overlapping: bool = Field(
        description="Two of its statistics cover some of the same days: the bounds "
        "are then [largest minimum, sum of maxima], best unknown."
    )
    event_ids: list[str]


class EntriesTimelineView(BaseModel):
    note: str = NOT_WORKERS
    interval: str
    as_of: date | None
    position: int
    head: int
    rows: list[EntriesTimelineRow]


def entries_timeline(
    conn: Connection, query: EntriesQuery, interval: Interval, position: int, head: int
) -> EntriesTimelineView:
    rows: dict[tuple[str, str, str], list[Row[Any]]] = defaultdict(list)
    order: dict[tuple[str, str, str], tuple[date, str]] = {}
    for figure in current_figures(conn, query, position):
        if query.purpose and figure.purpose != query.purpose:
            continue
        label = period_label(figure.period_start, figure.period_end, interval)
        key = (label, figure.destination_country, figure.purpose)
        rows[key].append(figure)
        order[key] = (figure.period_start or figure.period_end or date.max, label)
    return EntriesTimelineView(
        interval=interval,
        as_of=query.as_of,
        position=position,
        head=head,
        rows=[_row(key, rows[key]) for key in sorted(rows, key=lambda k: (order[k], k[1], k[2]))],
    )


def period_label(start: date | None, end: date | None, interval: Interval) -> str:
    """The bucket a statistic's period lies in, or its span when it lies in several."""

    def label(day: date) -> str:
        return f"{day.year:04d}" if interval == "year" else f"{day.year:04d}-{day.month:02d}"

    if start is None:
        assert end is not None, "an entry statistic is dated"
        return f"../{label(end)}"
    first, last = label(start), label(end or start)
    return first if first == last else f"{first}/{last}"


def _row(key: tuple[str, str, str], figures: list[Row[Any]]) -> EntriesTimelineRow:
    label, country, purpose = key
    bounds = [Bounds(f.count_min, f.count_best, f.count_max) for f in figures]
    overlapping = _any_overlap(figures)
    if overlapping:
        maxima = [b.max for b in bounds]
        arrivals = Bounds(
            max(b.min or 0 for b in bounds),
            None,
            None if None in maxima else sum(m or 0 for m in maxima),
        )
    else:
        arrivals = total(bounds)
    return EntriesTimelineRow(
        period=label,
        country=country,
        purpose=purpose,
        arrivals=Range.of(arrivals),
        statistics=len(figures),
        overlapping=overlapping,
        event_ids=[str(f.fact_id) for f in figures],
    )


def _any_overlap(figures: list[Row[Any]]) -> bool:
    """Do two of these periods share a day? A period giving only its end may reach back
    to any day; one giving only its start is that day."""
    spans = sorted((f.period_start or date.min, f.period_end or f.period_start) for f in figures)
    return any(later[0] <= earlier[1] for earlier, later in pairwise(spans))
