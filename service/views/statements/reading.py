"""The part of the log the statements views fold: the statements recorded by a position,
the sources they cite, and only the corrections, retractions and corroborations of those.

A ledger's corrections and retractions are mostly of flows, and there are many; reading
and typing every one of them to find the few about statements cost a deployments view
~0.2 ms per correction in the ledger (100 ms at 500). The events about a statement are
found in SQL, by their `target_event_id`, and only they are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from sqlalchemy import Connection, select

from service.domain.envelope import RecordedEvent
from service.domain.events import META_TYPES, EventType
from service.log.read import read_events_at
from service.log.tables import EVENTS

CHUNK = 500
"""Ids or positions per query (SQLite's limit on bound parameters is far above)."""

STATEMENT = EventType.statement_issued.value
SOURCE = EventType.source_recorded.value
T = TypeVar("T")


def statement_events(conn: Connection, position: int) -> list[RecordedEvent]:
    """The statements recorded by `position`, their sources' `source.recorded`, and the
    meta events by `position` that target any of these, in position order (for
    `fold_facts`). Empty when no statement is recorded by then: one indexed look-up."""
    up_to = EVENTS.c.position <= position
    statements = conn.execute(
        select(EVENTS.c.position, EVENTS.c.id, EVENTS.c.source_id).where(
            EVENTS.c.type == STATEMENT, up_to
        )
    ).all()
    if not statements:
        return []
    source_ids = sorted({row.source_id for row in statements})
    sources = [
        row
        for chunk in _chunks(source_ids)
        for row in conn.execute(
            select(EVENTS.c.position, EVENTS.c.id).where(
                EVENTS.c.type == SOURCE, EVENTS.c.source_id.in_(chunk), up_to
            )
        )
    ]
    facts = [*statements, *sources]
    targets = [str(row.id) for row in facts]
    about = [
        found
        for chunk in _chunks(targets)
        for found in conn.execute(
            select(EVENTS.c.position).where(
                EVENTS.c.type.in_(sorted(t.value for t in META_TYPES)),
                EVENTS.c.data["target_event_id"].as_string().in_(chunk),
                up_to,
            )
        ).scalars()
    ]
    positions = sorted({*(row.position for row in facts), *about})
    return [event for chunk in _chunks(positions) for event in read_events_at(conn, chunk)]


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
