"""The few reads of the log the desk makes itself, each one query for a whole page:
events by id, the sources a page cites, and when a position was recorded."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, select

from service.domain.envelope import RecordedEvent
from service.domain.events import EventType
from service.log.read import read_events_at
from service.log.tables import EVENTS


def events_by_id(conn: Connection, ids: Collection[UUID]) -> list[RecordedEvent]:
    if not ids:
        return []
    query = select(EVENTS).where(EVENTS.c.id.in_(list(ids))).order_by(EVENTS.c.position)
    return [RecordedEvent.model_validate(row, from_attributes=True) for row in conn.execute(query)]


def event_ids_at(conn: Connection, positions: Collection[int]) -> dict[int, UUID]:
    """The id of the event at each position (no payload read)."""
    found: dict[int, UUID] = {}
    ordered = sorted(positions)
    for start in range(0, len(ordered), 500):
        query = select(EVENTS.c.position, EVENTS.c.id).where(
            EVENTS.c.position.in_(ordered[start : start + 500])
        )
        found |= {int(position): event_id for position, event_id in conn.execute(query)}
    return found


def source_records(
    conn: Connection, source_ids: Collection[str], position: int
) -> list[RecordedEvent]:
    """The `source.recorded` events of these sources up to `position` (fold them with
    what corrected them, `events_about`, to get each source as it stood)."""
    if not source_ids:
        return []
    query = (
        select(EVENTS)
        .where(
            EVENTS.c.type == EventType.source_recorded.value,
            EVENTS.c.source_id.in_(list(source_ids)),
            EVENTS.c.position <= position,
        )
        .order_by(EVENTS.c.position)
    )
    return [RecordedEvent.model_validate(row, from_attributes=True) for row in conn.execute(query)]


def recorded_at(conn: Connection, position: int) -> datetime | None:
    """When the event at `position` was recorded (None for the empty log)."""
    if position <= 0:
        return None
    found = read_events_at(conn, [position])
    return found[0].recorded_at if found else None
