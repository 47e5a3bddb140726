"""Keep the query planner's statistics in step as the log grows.

PostgreSQL's autovacuum analyzes tables as they grow; SQLite never does on its
own. Without statistics SQLite guesses from the indexes alone, and a guess that
suits a small ledger (read a group's rows through its index to save a sort) can
read every row of a large one. So an append that takes the log past a power of
two (1,024 events, 2,048, … : some twenty times in a million) refreshes them,
sampling a few thousand rows per index (`service.db.sqlite`), which takes
milliseconds; a rebuild and a restore refresh them when they end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from service.db.backend import backend
from service.domain.envelope import LoggedEvent
from service.log.append import WriteOnlyRules

FIRST_REFRESH = 1024


def refresh_statistics(conn: Connection, tables: Sequence[str] = ()) -> None:
    """Analyze `tables` (every table when none are named), inside the caller's transaction."""
    backend(conn).refresh_statistics(conn, tables)


def crosses_a_power_of_two(first: int, last: int) -> bool:
    """Does some power of two from FIRST_REFRESH on lie in [first, last]?"""
    if last < FIRST_REFRESH:
        return False
    highest = 1 << (last.bit_length() - 1)  # the largest power of two <= last
    return highest >= max(first, FIRST_REFRESH)


@dataclass(frozen=True)
class SqliteStatistics(WriteOnlyRules):
    """Implements the store's `AppendRules`: SQLite's statistics refreshed as the log doubles."""

    def apply(self, conn: Connection, events: Sequence[LoggedEvent]) -> None:
        if (
            events
            and not backend(conn).analyzes_by_itself
            and crosses_a_power_of_two(events[0].position, events[-1].position)
        ):
            refresh_statistics(conn)
