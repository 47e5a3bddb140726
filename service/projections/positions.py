"""The second time axis: which position of the log a query looks at."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from service.store.append import read_head
from service.store.tables import EVENTS


def position_known_at(conn: Connection, moment: datetime) -> int:
    """The last position recorded at or before `moment` (0 before the first event)."""
    found = conn.execute(
        select(func.max(EVENTS.c.position)).where(EVENTS.c.recorded_at <= moment)
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
