"""The log's tables: `events` is the truth; the others are its bookkeeping (head,
streams, idempotency, small values the service keeps)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Index,
    String,
    TableClause,
    UniqueConstraint,
    column,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import Field, SQLModel

from service.db.metadata import table_of
from service.db.types import JSONDocument, UTCDateTime
from service.domain.events import META_TYPES


class TargetOfEvent(ColumnElement[str]):
    """The `target_event_id` of an event about a fact (a correction, retraction or
    corroboration), as text: the expression of the index `ix_events_target`, spelt the
    same in the index and in a query (a planner matches the expression as written)."""

    type = String()
    inherit_cache = True


@compiles(TargetOfEvent, "sqlite")
def _target_in_sqlite(element: TargetOfEvent, compiler: SQLCompiler, **kw: Any) -> str:
    return "json_extract(data, '$.target_event_id')"


@compiles(TargetOfEvent, "postgresql")
def _target_in_postgresql(element: TargetOfEvent, compiler: SQLCompiler, **kw: Any) -> str:
    return "(data ->> 'target_event_id')"


ABOUT_A_FACT = text(
    "type IN (" + ", ".join(f"'{t}'" for t in sorted(t.value for t in META_TYPES)) + ")"
)
"""The events `ix_events_target` holds, spelt out with literals (a planner proves a
partial index applies only from the query's own words, never from a bound value)."""


class EventRow(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("stream", "stream_version", name="uq_events_stream_version"),
        Index("ix_events_type_position", "type", "position"),
        Index("ix_events_source_position", "source_id", "position"),
        # what touched a fact, found by its id: a source's or a fact's page, and the
        # smaller views folding their facts, read those events and no others
        Index(
            "ix_events_target",
            TargetOfEvent(),
            sqlite_where=ABOUT_A_FACT,
            postgresql_where=ABOUT_A_FACT,
        ),
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


class _EventsByTarget(TableClause):
    """`events`, read through `ix_events_target` (see `EVENTS_BY_TARGET`)."""

    inherit_cache = True


@compiles(_EventsByTarget, "sqlite")
def _by_target_in_sqlite(element: _EventsByTarget, compiler: SQLCompiler, **kw: Any) -> str:
    table: str = compiler.visit_table(element, **kw)  # type: ignore[no-untyped-call]
    return f"{table} INDEXED BY ix_events_target" if kw.get("asfrom") else table


EVENTS_BY_TARGET = _EventsByTarget("events", *(column(c.name, c.type) for c in EVENTS.c))
"""The events table for the events about some facts (`ABOUT_A_FACT` and `TargetOfEvent`).
SQLite, with no statistics (no ANALYZE is run on a ledger's file), guesses that the few
meta types in `ix_events_type_position` are fewer rows than the facts' ids in
`ix_events_target`, and reads every correction and corroboration of the log (90 ms at a
million events, for each page that folds a few facts); told the index, it reads only
the rows asked for (0.2 ms). PostgreSQL keeps statistics and picks it itself."""
