"""The statements standing at a position, each with when it was made, and how the views
sort and filter by a date as precise as its report (DESIGN §1b).

A statement's `issued_on` is a day, a month, a quarter, a year, or unknown (`null`):
- **Newest first**: by the first day its date covers, then the last (the order of
  `ReportedDate`), latest first; a statement with no date comes after every dated one.
- **`issued_from` / `issued_to`** keep a statement whose date may fall between them: its
  interval overlaps the range (one "in May 2023" is kept by `issued_from=2023-05-10`).
  An undated statement is left out by either: no date of it can be said to fall there.
- **`as_of`** keeps a statement made by then: one whose date begins on or before it (as
  a fact's period does). An undated statement was made by the time its report was
  published at the latest: it counts from the last day of its source's publication date,
  or from the day the ledger recorded it where the source gives no date (the rule of a
  stock with no date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from service.domain.dates import ReportedDate
from service.domain.events import EventType
from service.domain.payloads import SourceRecorded, StatementIssued
from service.views.deployments.updater import published_date
from service.views.facts.history import FactVersion, fold_facts
from service.views.statements.reading import statement_events

_TYPES = (EventType.statement_issued.value, EventType.source_recorded.value)


@dataclass(frozen=True)
class DatedStatement:
    """A statement as it stands (corrections applied), with the day `as_of` compares."""

    fact: FactVersion
    statement: StatementIssued
    made_by: date
    """The first day its date covers; for an undated statement the last day of its
    source's publication date, or the day the ledger recorded it."""

    @property
    def issued_on(self) -> ReportedDate | None:
        return self.statement.issued_on

    def made_as_of(self, as_of: date | None) -> bool:
        """Was it made by `as_of` (always, when no date is asked)?"""
        return as_of is None or self.made_by <= as_of

    def issued_between(self, start: date | None, end: date | None) -> bool:
        """May its date fall between `start` and `end` (either open)?"""
        if start is None and end is None:
            return True
        issued = self.issued_on
        if issued is None:
            return False
        return (start is None or issued.last >= start) and (end is None or issued.first <= end)

    def newest_first(self) -> tuple[bool, date, date, str]:
        """Its sort key, for `reverse=True`: dated before undated, latest first."""
        issued, event_id = self.issued_on, str(self.fact.event.id)
        if issued is None:
            return (False, date.min, date.min, event_id)
        return (True, issued.first, issued.last, event_id)


def statements_at(conn: Connection, position: int) -> list[DatedStatement]:
    """Every statement standing at `position` (corrections applied), newest first."""
    facts = fold_facts(statement_events(conn, position), _TYPES).values()
    sources = {
        fact.event.source_id: fact.payload
        for fact in facts
        if isinstance(fact.payload, SourceRecorded)
    }
    dated = [
        DatedStatement(fact, fact.payload, _made_by(fact, fact.payload, sources))
        for fact in facts
        if isinstance(fact.payload, StatementIssued)
    ]
    return sorted(dated, key=DatedStatement.newest_first, reverse=True)


def _made_by(
    fact: FactVersion, statement: StatementIssued, sources: dict[str, SourceRecorded]
) -> date:
    if statement.issued_on is not None:
        return statement.issued_on.first
    source = sources.get(fact.event.source_id)
    published = published_date(source) if source is not None else None
    return published or fact.event.recorded_at.date()
