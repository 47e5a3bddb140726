"""Reading the log back: by position, by id, by stream, with filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import Connection, Select, select

from service.domain.envelope import RecordedEvent
from service.domain.events import EventType
from service.log.tables import EVENTS, STREAMS


@dataclass(frozen=True)
class EventFilter:
    after: int = 0
    types: tuple[str, ...] = ()
    stream: str | None = None
    source_id: str | None = None
    recorded_after: datetime | None = None
    recorded_before: datetime | None = None
    up_to_position: int | None = None
    after_stream_version: int = 0


def _filtered(query: Select[Any], f: EventFilter) -> Select[Any]:
    query = query.where(EVENTS.c.position > f.after)
    if f.types:
        query = query.where(EVENTS.c.type.in_(f.types))
    if f.stream is not None:
        query = query.where(EVENTS.c.stream == f.stream)
    if f.source_id is not None:
        query = query.where(EVENTS.c.source_id == f.source_id)
    if f.recorded_after is not None:
        query = query.where(EVENTS.c.recorded_at > f.recorded_after)
    if f.recorded_before is not None:
        query = query.where(EVENTS.c.recorded_at < f.recorded_before)
    if f.after_stream_version:
        query = query.where(EVENTS.c.stream_version > f.after_stream_version)
    if f.up_to_position is not None:
        query = query.where(EVENTS.c.position <= f.up_to_position)
    return query


def read_events(conn: Connection, f: EventFilter, limit: int) -> list[RecordedEvent]:
    query = _filtered(select(EVENTS), f).order_by(EVENTS.c.position).limit(limit)
    return [_envelope(row) for row in conn.execute(query)]


def read_event(conn: Connection, event_id: UUID) -> RecordedEvent | None:
    row = conn.execute(select(EVENTS).where(EVENTS.c.id == event_id)).one_or_none()
    return _envelope(row) if row is not None else None


def stream_version(conn: Connection, stream: str) -> int | None:
    version: int | None = conn.execute(
        select(STREAMS.c.version).where(STREAMS.c.stream == stream)
    ).scalar_one_or_none()
    return version


def _envelope(row: object) -> RecordedEvent:
    return RecordedEvent.model_validate(row, from_attributes=True)


def read_events_at(conn: Connection, positions: list[int]) -> list[RecordedEvent]:
    """The events at these positions, in position order."""
    query = select(EVENTS).where(EVENTS.c.position.in_(positions)).order_by(EVENTS.c.position)
    return [_envelope(row) for row in conn.execute(query)]


SchemaForm = Literal["stored", "current"]
"""How a reader asks for payloads: as recorded (`stored`, what `hash` covers) or read in
their type's current schema version (`current`, as the views read them)."""


def in_schema(
    conn: Connection, events: list[RecordedEvent], form: SchemaForm
) -> list[RecordedEvent]:
    """`events` as `form` asks. In the current schema a correction's replacement is upcast
    as its target's type, which the log gives (one query for the whole page)."""
    if form == "stored":
        return events
    targets = {
        UUID(str(e.data["target_event_id"]))
        for e in events
        if e.type == EventType.fact_corrected.value and "target_event_id" in e.data
    }
    target_types: dict[str, str] = {}
    if targets:
        query = select(EVENTS.c.id, EVENTS.c.type).where(EVENTS.c.id.in_(targets))
        target_types = {str(row.id): row.type for row in conn.execute(query)}
    return [
        e.in_current_schema(target_types.get(str(e.data.get("target_event_id")))) for e in events
    ]
