"""Entry statistics as the ledger knew them at a position: each statistic with its
figures, its sources and the words it was taken from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Row, func, or_, select

from service.log.tables import EVENTS
from service.views.deployments.queries import corroborating_sources
from service.views.entries.tables import ENTRIES, TOTAL

NOT_WORKERS = (
    "Arrivals are not workers: students, tourists and delegations cross too. These counts "
    "are never summed into the flows, the stocks or estimated_present."
)


@dataclass(frozen=True)
class EntriesQuery:
    country: str | None = None
    """The country entered, two letters, either case."""
    purpose: str | None = None
    """Statistics giving a figure of this purpose (`total`: giving a total)."""
    period_from: date | None = None
    """Statistics whose period starts on or after this day."""
    period_to: date | None = None
    """Statistics whose period starts on or before this day."""
    as_of: date | None = None
    """The world as reported for this date: statistics whose period starts by then."""


class EntryCount(BaseModel):
    """One figure of a statistic, as reported and with its bounds (null: open)."""

    purpose: str = Field(description="`total`, or the purpose of entry.")
    text: str
    qualifier: str
    min: int
    best: int | None
    max: int | None
    bounds_rule: str


class EntryPeriod(BaseModel):
    start: date | None
    end: date | None
    precision: str
    text: str | None


class EntryStatistic(BaseModel):
    event_id: UUID
    source_id: str
    sources: list[str] = Field(description="Its source and any corroborating sources.")
    publisher: str
    origin_country: str
    destination_country: str
    place_ids: list[str]
    period: EntryPeriod
    total: EntryCount | None
    by_purpose: list[EntryCount]
    version_position: int = Field(
        description="The event that made this version: the statistic, or its latest correction."
    )
    locator: str


class EntriesView(BaseModel):
    note: str = NOT_WORKERS
    as_of: date | None
    position: int
    head: int
    entries: list[EntryStatistic] = Field(description="Oldest period first.")


def current_figures(conn: Connection, query: EntriesQuery, position: int) -> list[Row[Any]]:
    """Every figure of the statistics standing at `position` that `query` asks for, in
    the order of their statistics' periods."""
    e = ENTRIES.c
    starts = func.coalesce(e.period_start, e.period_end)  # a period may give only its end
    conditions = [
        e.position <= position,
        or_(e.superseded_at.is_(None), e.superseded_at > position),
    ]
    if query.country:
        conditions.append(e.destination_country == query.country.upper())
    if query.period_from is not None:
        conditions.append(starts >= query.period_from)
    if query.period_to is not None:
        conditions.append(starts <= query.period_to)
    if query.as_of is not None:
        conditions.append(starts <= query.as_of)
    rows = list(conn.execute(select(ENTRIES).where(*conditions).order_by(starts, e.fact_id, e.id)))
    if query.purpose:
        wanted = {row.fact_id for row in rows if row.purpose == query.purpose}
        rows = [row for row in rows if row.fact_id in wanted]
    return rows


def entries_view(conn: Connection, query: EntriesQuery, position: int, head: int) -> EntriesView:
    figures: dict[UUID, list[Row[Any]]] = defaultdict(list)
    for row in current_figures(conn, query, position):
        figures[row.fact_id].append(row)
    locators = _locators(conn, list(figures))
    others = corroborating_sources(conn, list(figures), position)
    return EntriesView(
        as_of=query.as_of,
        position=position,
        head=head,
        entries=[
            _statistic(fact_id, rows, locators.get(fact_id, ""), others.get(fact_id, []))
            for fact_id, rows in figures.items()
        ],
    )


def _statistic(
    fact_id: UUID, rows: list[Row[Any]], locator: str, corroborating: list[str]
) -> EntryStatistic:
    first = rows[0]
    counts = [_count(row) for row in rows]
    return EntryStatistic(
        event_id=fact_id,
        source_id=first.source_id,
        sources=list(dict.fromkeys([first.source_id, *corroborating])),
        publisher=first.publisher,
        origin_country=first.origin_country,
        destination_country=first.destination_country,
        place_ids=first.place_ids.split() if first.place_ids else [],
        period=EntryPeriod(
            start=first.period_start,
            end=first.period_end,
            precision=first.precision,
            text=first.period_text,
        ),
        total=next((c for c in counts if c.purpose == TOTAL), None),
        by_purpose=[c for c in counts if c.purpose != TOTAL],
        version_position=first.position,
        locator=locator,
    )


def _count(row: Row[Any]) -> EntryCount:
    return EntryCount(
        purpose=row.purpose,
        text=row.count_text,
        qualifier=row.qualifier,
        min=row.count_min,
        best=row.count_best,
        max=row.count_max,
        bounds_rule=row.bounds_rule,
    )


def _locators(conn: Connection, fact_ids: list[UUID]) -> dict[UUID, str]:
    """The words each statistic was taken from (its own event's, not a correction's)."""
    found: dict[UUID, str] = {}
    for start in range(0, len(fact_ids), 500):
        rows = conn.execute(
            select(EVENTS.c.id, EVENTS.c.provenance).where(
                EVENTS.c.id.in_(fact_ids[start : start + 500])
            )
        )
        found |= {row.id: str(row.provenance.get("locator", "")) for row in rows}
    return found
