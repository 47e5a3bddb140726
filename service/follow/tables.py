"""Webhook subscriptions and their outbox.

The outbox is bookkeeping written in the append transaction: a row per event a
subscriber is owed, deleted once delivered. So a crash loses no delivery.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db.metadata import table_of
from service.db.types import BigIntPK, UTCDateTime

ACTIVE = "active"
FAILING = "failing"
DISABLED = "disabled"


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"

    id: UUID = Field(primary_key=True)
    url: str = Field(max_length=2000)
    event_types: str = Field(
        default="", max_length=2000, description="Space-separated; empty means every type."
    )
    description: str | None = Field(default=None, max_length=500)
    secret: str = Field(
        max_length=200,
        description="Sealed under the service's secret (`secret_box.py`); deliveries are "
        "signed with what it holds.",
    )
    status: str = Field(default=ACTIVE, max_length=16, description="active, failing or disabled")
    max_attempts: int
    from_position: int = Field(
        sa_column=Column(BigInteger, nullable=False),
        description="The head when it was created: events after it are delivered.",
    )
    last_delivered_position: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    failures: int = Field(default=0, description="Failed attempts since the last success.")
    last_error: str | None = Field(default=None, max_length=2000)
    last_error_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=200)


class WebhookOutboxRow(SQLModel, table=True):
    """One event owed to one subscriber. Only a subscriber's lowest position is
    ever eligible, which keeps deliveries in order."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (
        UniqueConstraint("subscription_id", "position", name="uq_webhook_outbox_position"),
        Index("ix_webhook_outbox_due", "next_attempt_at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    subscription_id: UUID = Field(
        sa_column=Column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False)
    )
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_id: UUID
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    leased_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    lease_owner: str | None = Field(default=None, max_length=100)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


SUBSCRIPTIONS = table_of(WebhookSubscription)
OUTBOX = table_of(WebhookOutboxRow)
