"""The longest period any fact has, kept in `ledger_meta` as facts are written.

The duplicate search (`views.deployments.period_search`) reads it to bound its window:
a fact overlapping [start, end] starts within [start - longest, end].
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Connection, cast, insert, select, update
from sqlalchemy import Integer as IntegerType

from service.log.tables import META
from service.views.facts.tables import FACTS

LONGEST_PERIOD_KEY = "facts_longest_period_days"

Period = tuple[date | None, date | None]


_LONGEST = select(META.c.value).where(META.c.key == LONGEST_PERIOD_KEY)


def longest_period_days(conn: Connection) -> int:
    """The longest period of any fact, in days; measured once if never kept."""
    value = conn.execute(_LONGEST).scalar()
    if value is not None:
        return int(value)
    rows = conn.execute(
        select(FACTS.c.period_start, FACTS.c.period_end).where(
            FACTS.c.period_start.is_not(None), FACTS.c.period_end.is_not(None)
        )
    )
    days = max(((row.period_end - row.period_start).days for row in rows), default=0)
    conn.execute(insert(META).values(key=LONGEST_PERIOD_KEY, value=str(days)))
    return days


def note_periods(conn: Connection, periods: Iterable[Period]) -> None:
    """Keep the longest period up to date with facts being written."""
    note_longest_period(conn, longest_of(periods))


def longest_of(periods: Iterable[Period]) -> int:
    """The longest of these periods in days (0 if none has both ends)."""
    return max(((end - start).days for start, end in periods if start and end), default=0)


def note_longest_period(conn: Connection, days: int) -> None:
    """Keep the longest period up to date with facts `days` long being written."""
    if days > 0:
        conn.execute(
            update(META)
            .where(
                META.c.key == LONGEST_PERIOD_KEY,
                cast(META.c.value, IntegerType) < days,
            )
            .values(value=str(days))
        )
