"""The second time axis: which position of the log a query looks at."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from service.log.append import UNORDERED_KEY, read_head
from service.log.tables import EVENTS, META


def position_known_at(conn: Connection, moment: datetime) -> int:
    """The last position recorded at or before `moment` (0 before the first event).

    Appends never stamp an event earlier than the one before it, so the events
    recorded by `moment` are a prefix of the log: its last position is the largest
    among those stamped with the latest time not after `moment`. Two index lookups,
    where `max(position) WHERE recorded_at <= moment` reads the whole prefix."""
    if conn.execute(select(META.c.value).where(META.c.key == UNORDERED_KEY)).first():
        found = conn.execute(  # an old log with times that go back: read it all
            select(func.max(EVENTS.c.position)).where(EVENTS.c.recorded_at <= moment)
        ).scalar()
        return int(found or 0)
    latest = (
        select(func.max(EVENTS.c.recorded_at)).where(EVENTS.c.recorded_at <= moment)
    ).scalar_subquery()
    found = conn.execute(
        select(func.max(EVENTS.c.position)).where(EVENTS.c.recorded_at == latest)
    ).scalar()
    return int(found or 0)


def resolve_position(
    conn: Connection, *, known_at: datetime | None, at_position: int | None
) -> tuple[int, int]:
    """(the position to look at, the head now). Both axes given: the earlier wins."""
    head = read_head(conn).position
    return position_at(conn, head, known_at=known_at, at_position=at_position), head


def position_at(
    conn: Connection, head: int, *, known_at: datetime | None, at_position: int | None
) -> int:
    """The position to look at, given the head a request was answered at."""
    position = head
    if at_position is not None:
        position = min(position, at_position)
    if known_at is not None:
        position = min(position, position_known_at(conn, known_at))
    return position
