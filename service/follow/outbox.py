"""Owe each subscriber its events: outbox rows written in the append transaction.

Because the rows commit with the events, a crash between the append and the
delivery loses nothing: the worker finds them on restart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Insert, bindparam, insert, literal, or_, select

from service.db.types import UTCDateTime
from service.domain.envelope import LoggedEvent
from service.follow.tables import ACTIVE, FAILING, OUTBOX, SUBSCRIPTIONS
from service.log.append import WriteOnlyRules
from service.log.tables import EVENTS


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OutboxRules(WriteOnlyRules):
    """Implements the store's `AppendRules`: an outbox row per (subscriber, matching event).

    A parked (`failing`) subscription keeps collecting rows, so that it resumes
    where it stopped when an admin re-enables it; a disabled one collects none.
    """

    clock: Callable[[], datetime] = field(default=_utc_now)

    def apply(self, conn: Connection, events: Sequence[LoggedEvent]) -> None:
        """One INSERT … SELECT over the events just written: no round trip to read the
        subscriptions first, and none at all in effect when there are none."""
        if events:
            conn.execute(
                _OWED,
                {"first": events[0].position, "last": events[-1].position, "now": self.clock()},
            )


def _owed_statement() -> Insert:
    """The outbox rows for events `first`..`last`: one per (subscription, wanted event)."""
    subscription, event = SUBSCRIPTIONS.alias("subscription"), EVENTS.alias("event")
    now = bindparam("now", type_=UTCDateTime)
    # event_types is space-separated; padded with spaces, a type matches whole words
    # only. A type's "_" is a LIKE wildcard, harmless: both sides are known types.
    wanted = (literal(" ") + subscription.c.event_types + " ").contains(
        literal(" ") + event.c.type + " "
    )
    owed = (
        select(subscription.c.id, event.c.position, event.c.id, literal(0), now, now)
        .join(event, event.c.position.between(bindparam("first"), bindparam("last")))
        .where(
            subscription.c.status.in_((ACTIVE, FAILING)),
            or_(subscription.c.event_types == "", wanted),
        )
    )
    columns = ["subscription_id", "position", "event_id", "attempts", "next_attempt_at"]
    return insert(OUTBOX).from_select([*columns, "created_at"], owed)


_OWED = _owed_statement()
