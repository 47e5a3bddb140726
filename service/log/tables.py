"""The log's tables: `events` is the truth; the others are its bookkeeping (head,
streams, idempotency, small values the service keeps)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.db.metadata import table_of
from service.db.types import JSONDocument, UTCDateTime


class EventRow(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("stream", "stream_version", name="uq_events_stream_version"),
        Index("ix_events_type_position", "type", "position"),
        Index("ix_events_source_position", "source_id", "position"),
    )

    position: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    id: UUID = Field(unique=True)
    stream: str = Field(max_length=200)
    stream_version: int
    type: str = Field(max_length=64)
    schema_version: int
    source_id: str = Field(max_length=120)
    data: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))
    provenance: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    recorded_by: str = Field(max_length=200)
    hash: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=200)
    correlation_id: str | None = Field(default=None, max_length=2000)
    causation_id: UUID | None = None


class LogHead(SQLModel, table=True):
    """One row: the last position and hash. Appends lock it, which serialises
    writers so that positions commit in order."""

    __tablename__ = "log_head"

    id: int = Field(primary_key=True)
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(max_length=64)
    recorded_at: datetime | None = Field(
        default=None,
        sa_column=Column(UTCDateTime),
        description="The last event's recording time: the next is stamped no earlier.",
    )


class StreamRow(SQLModel, table=True):
    """Each source's stream and its version; a source exists iff its stream does."""

    __tablename__ = "streams"

    stream: str = Field(primary_key=True, max_length=200)
    source_id: str = Field(max_length=120, unique=True)
    version: int
    opened_at_position: int = Field(sa_column=Column(BigInteger, nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    principal: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))


class LedgerMeta(SQLModel, table=True):
    """Small values the service keeps for itself (the generated key secret)."""

    __tablename__ = "ledger_meta"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(max_length=2000)


EVENTS = table_of(EventRow)
LOG_HEAD = table_of(LogHead)
STREAMS = table_of(StreamRow)
IDEMPOTENCY = table_of(IdempotencyRecord)
META = table_of(LedgerMeta)
