"""Recompute the hash chain over the whole log and name the first break."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from service.domain.chain import GENESIS_HASH, event_hash
from service.domain.envelope import RecordedEvent
from service.log.append import read_head
from service.log.read import EventFilter, read_events
from service.log.tables import EVENTS

CHUNK = 2000


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    head_position: int
    first_broken_position: int | None
    reason: str | None


@dataclass(frozen=True)
class _Chunk:
    events: list[RecordedEvent]
    unreadable_position: int | None = None
    """The first row after `events` that is no longer a valid event (altered in place)."""


def verify_chain(
    conn: Connection, progress: Callable[[int, int], None] | None = None
) -> ChainReport:
    """The first break of the chain up to the head, if any. `progress(checked, head)` is
    told after each chunk (the CLI draws a bar with it)."""
    # Verify up to the head as it is now: the head row and the events it covers commit
    # together, so events appended while we read are simply not part of this check.
    head = read_head(conn)
    expected_prev, expected_position, checked = GENESIS_HASH, 1, 0
    while expected_position <= head.position:
        chunk = _read_chunk(conn, after=expected_position - 1, up_to=head.position)
        for event in chunk.events:
            problem = None
            if event.position != expected_position:
                problem = f"position {expected_position} is missing"
            elif event.prev_hash != expected_prev:
                problem = "prev_hash does not match the previous event's hash"
            elif event_hash(expected_prev, event.hashed_fields()) != event.hash:
                problem = "the stored hash does not match the event's content"
            if problem is not None:
                return ChainReport(False, checked, head.position, expected_position, problem)
            expected_prev, expected_position, checked = (
                event.hash,
                expected_position + 1,
                checked + 1,
            )
        if progress is not None:
            progress(checked, head.position)
        if chunk.unreadable_position is not None:
            problem = (
                "the stored event is not a valid event any more"
                if chunk.unreadable_position == expected_position
                else f"position {expected_position} is missing"
            )
            return ChainReport(False, checked, head.position, expected_position, problem)
        if not chunk.events:
            break
    if checked != head.position or (checked and head.hash != expected_prev):
        return ChainReport(
            False, checked, head.position, checked + 1, "the log ends before its recorded head"
        )
    return ChainReport(True, checked, head.position, None, None)


def _read_chunk(conn: Connection, *, after: int, up_to: int) -> _Chunk:
    """The next events; where a row no longer parses, those before it and its position."""
    window = EventFilter(after=after, up_to_position=up_to)
    try:
        return _Chunk(read_events(conn, window, CHUNK))
    except ValueError:  # invalid JSON, or JSON that is not an event: someone edited a row
        pass
    positions = (
        conn.execute(
            select(EVENTS.c.position)
            .where(EVENTS.c.position > after, EVENTS.c.position <= up_to)
            .order_by(EVENTS.c.position)
            .limit(CHUNK)
        )
        .scalars()
        .all()
    )
    readable: list[RecordedEvent] = []
    for position in positions:
        try:
            readable += read_events(conn, EventFilter(after=position - 1), 1)
        except ValueError:
            return _Chunk(readable, unreadable_position=position)
    return _Chunk(readable)
