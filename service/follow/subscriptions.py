"""Webhook subscriptions: create (the secret is shown once), list, read, re-enable, disable."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from uuid6 import uuid7

from service.db.engine import SQLITE_BEGIN
from service.follow.secret_box import SecretBox
from service.follow.signing import new_secret_value
from service.follow.tables import ACTIVE, DISABLED, OUTBOX, SUBSCRIPTIONS
from service.log.append import lock_head


@dataclass(frozen=True)
class Subscription:
    id: UUID
    url: str
    event_types: tuple[str, ...]
    description: str | None
    status: str
    max_attempts: int
    from_position: int
    last_delivered_position: int | None
    last_delivered_at: datetime | None
    failures: int
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime
    created_by: str
    pending: int


def create_subscription(
    engine: Engine,
    *,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    max_attempts: int,
    created_by: str,
    box: SecretBox,
) -> tuple[Subscription, str]:
    """A new active subscription and its secret (not readable again through the API;
    stored sealed in `box`)."""
    secret = new_secret_value(secrets.token_bytes(32))
    subscription_id = uuid7()
    with engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as conn:
        with conn.begin():
            # The head lock orders this with appends: every event after
            # `from_position` is in the outbox, none before it.
            head = lock_head(conn)
            conn.execute(
                insert(SUBSCRIPTIONS).values(
                    id=subscription_id,
                    url=url,
                    event_types=" ".join(sorted(set(event_types))),
                    description=description,
                    secret=box.seal(secret),
                    status=ACTIVE,
                    max_attempts=max_attempts,
                    from_position=head.position,
                    failures=0,
                    created_at=datetime.now(UTC),
                    created_by=created_by,
                )
            )
        found = _read(conn, subscription_id)
    assert found is not None
    return found, secret


def list_subscriptions(engine: Engine) -> list[Subscription]:
    with engine.connect() as conn:
        return _select(conn, None)


def get_subscription(engine: Engine, subscription_id: UUID) -> Subscription | None:
    with engine.connect() as conn:
        return _read(conn, subscription_id)


def enable_subscription(engine: Engine, subscription_id: UUID) -> Subscription | None:
    """Deliveries start again from the oldest one still owed, at once, with a fresh budget."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(SUBSCRIPTIONS)
            .where(SUBSCRIPTIONS.c.id == subscription_id)
            .values(status=ACTIVE, failures=0)
        ).rowcount
        if not changed:
            return None
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.subscription_id == subscription_id, OUTBOX.c.attempts > 0)
            .values(attempts=0, next_attempt_at=datetime.now(UTC), leased_until=None)
        )
        return _read(conn, subscription_id)


def disable_subscription(engine: Engine, subscription_id: UUID) -> Subscription | None:
    """No more deliveries; what was still owed is dropped."""
    with engine.begin() as conn:
        changed = conn.execute(
            update(SUBSCRIPTIONS)
            .where(SUBSCRIPTIONS.c.id == subscription_id)
            .values(status=DISABLED)
        ).rowcount
        if not changed:
            return None
        conn.execute(delete(OUTBOX).where(OUTBOX.c.subscription_id == subscription_id))
        return _read(conn, subscription_id)


def _read(conn: Connection, subscription_id: UUID) -> Subscription | None:
    found = _select(conn, subscription_id)
    return found[0] if found else None


def _select(conn: Connection, subscription_id: UUID | None) -> list[Subscription]:
    pending = (
        select(func.count())
        .where(OUTBOX.c.subscription_id == SUBSCRIPTIONS.c.id)
        .correlate(SUBSCRIPTIONS)
        .scalar_subquery()
    )
    query = select(SUBSCRIPTIONS, pending.label("pending")).order_by(SUBSCRIPTIONS.c.created_at)
    if subscription_id is not None:
        query = query.where(SUBSCRIPTIONS.c.id == subscription_id)
    return [
        Subscription(
            id=row.id,
            url=row.url,
            event_types=tuple(row.event_types.split()),
            description=row.description,
            status=row.status,
            max_attempts=row.max_attempts,
            from_position=row.from_position,
            last_delivered_position=row.last_delivered_position,
            last_delivered_at=row.last_delivered_at,
            failures=row.failures,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            created_at=row.created_at,
            created_by=row.created_by,
            pending=row.pending,
        )
        for row in conn.execute(query)
    ]
