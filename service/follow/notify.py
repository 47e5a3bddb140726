"""Tell every service process that the log moved: PostgreSQL NOTIFY on commit.

Sent from inside the append transaction, so PostgreSQL delivers it only when
the append commits (and never for one that rolls back). SQLite has no such
channel; processes there poll `log_head` instead (see `watch.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text

from service.domain.envelope import RecordedEvent
from service.store.append import AppendWarning, NewEvent

CHANNEL = "ledger_events"


@dataclass(frozen=True)
class NotifyRules:
    """Implements the store's `AppendRules`: a NOTIFY carrying the new head position."""

    def check(self, conn: Connection, events: Sequence[NewEvent]) -> list[NewEvent]:
        return list(events)

    def warnings(self, conn: Connection, events: Sequence[NewEvent]) -> list[AppendWarning]:
        return []

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        if events and conn.dialect.name == "postgresql":
            head = max(e.position for e in events)
            conn.execute(
                text("SELECT pg_notify(:channel, :head)"), {"channel": CHANNEL, "head": str(head)}
            )
