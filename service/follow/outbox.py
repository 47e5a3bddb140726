"""Owe each subscriber its events: outbox rows written in the append transaction.

Because the rows commit with the events, a crash between the append and the
delivery loses nothing: the worker finds them on restart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from service.domain.envelope import RecordedEvent
from service.follow.tables import ACTIVE, FAILING, OUTBOX, SUBSCRIPTIONS
from service.store.append import AppendWarning, NewEvent


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OutboxRules:
    """Implements the store's `AppendRules`: an outbox row per (subscriber, matching event).

    A parked (`failing`) subscription keeps collecting rows, so that it resumes
    where it stopped when an admin re-enables it; a disabled one collects none.
    """

    clock: Callable[[], datetime] = field(default=_utc_now)

    def check(self, conn: Connection, events: Sequence[NewEvent]) -> list[NewEvent]:
        return list(events)

    def warnings(self, conn: Connection, events: Sequence[NewEvent]) -> list[AppendWarning]:
        return []

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        if not events:
            return
        subscribers = conn.execute(
            select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.event_types).where(
                SUBSCRIPTIONS.c.status.in_((ACTIVE, FAILING))
            )
        ).all()
        if not subscribers:
            return
        now = self.clock()
        rows: list[dict[str, Any]] = []
        for subscriber in subscribers:
            wanted = set(subscriber.event_types.split())
            rows.extend(
                {
                    "subscription_id": subscriber.id,
                    "position": event.position,
                    "event_id": event.id,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for event in events
                if not wanted or event.type in wanted
            )
        if rows:
            conn.execute(insert(OUTBOX), rows)
