"""The two time axes every projection endpoint takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from pydantic import AwareDatetime
from sqlalchemy import Connection

from service.domain.moments import Day, Timestamp
from service.log.positions import position_at, resolve_position

MAX_POSITION = 2**63 - 1


@dataclass(frozen=True)
class TimeAxes:
    as_of: date | None
    known_at: AwareDatetime | None
    at_position: int | None

    def position(self, conn: Connection) -> tuple[int, int]:
        """(the position this query looks at, the head now)."""
        return resolve_position(conn, known_at=self.known_at, at_position=self.at_position)

    def position_at(self, conn: Connection, head: int) -> int:
        """The position this query looks at, for a request answered at `head`."""
        return position_at(conn, head, known_at=self.known_at, at_position=self.at_position)


async def time_axes(  # async: no thread hop for a function that only gathers parameters
    as_of: Annotated[
        Day | None,
        Query(
            description="The world as reported for this date: facts whose period starts "
            "on or before it. Example: `2023-04-15`.",
        ),
    ] = None,
    known_at: Annotated[
        Timestamp | None,
        Query(
            description="What the ledger knew at this time (events and corrections recorded "
            "by then), e.g. `2023-06-01T00:00:00Z`.",
        ),
    ] = None,
    at_position: Annotated[
        int | None,
        Query(ge=0, le=MAX_POSITION, description="What the ledger knew at this log position."),
    ] = None,
) -> TimeAxes:
    return TimeAxes(as_of=as_of, known_at=known_at, at_position=at_position)


TimeAxesDep = Annotated[TimeAxes, Depends(time_axes)]
