"""The tables. `events` is the truth; every other table can be rebuilt from it
or is bookkeeping (keys, idempotency)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, Index, MetaData, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from service.domain.events import EventType
from service.store.types import BigIntPK, JSONDocument, NullableJSONDocument, UTCDateTime

# Deterministic constraint names, so one migration set fits SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def partial_index(name: str, column: str, *, where: str) -> Index:
    """An index of the rows matching `where`, on both backends. A query meant to use it
    spells `where` out with literals: a planner cannot count on a bound value (a
    prepared statement's generic plan on PostgreSQL never does)."""
    condition = text(where)
    return Index(name, column, sqlite_where=condition, postgresql_where=condition)


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


class FactRow(SQLModel, table=True):
    """Every fact event and its standing now: active, corrected or retracted.

    The place, period and count columns let a new report be checked against
    the facts it may duplicate without reading every payload.
    """

    __tablename__ = "facts"
    __table_args__ = (
        Index("ix_facts_type_period", "type", "period_start"),
        # The sources, a few rows among every fact: their dates are read by every
        # append and every chunk of a rebuild.
        partial_index(
            "ix_facts_sources", "source_id", where=f"type = '{EventType.source_recorded.value}'"
        ),
    )

    event_id: UUID = Field(primary_key=True)
    position: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    type: str = Field(max_length=64)
    source_id: str = Field(max_length=120)
    status: str = Field(max_length=16, default="active")
    # A source's payload now, corrections applied: its publication date dates the facts
    # citing it. Empty for other facts: their payloads are in the log, and what views read
    # of them is in `flow_contributions` (a copy here was two thirds of what a rebuild
    # wrote, and nothing read it).
    current_data: dict[str, Any] | None = Field(
        default=None, sa_column=Column(NullableJSONDocument, nullable=True)
    )
    place_ids: str | None = Field(default=None, max_length=4000)
    period_start: date | None = None
    period_end: date | None = None
    count_min: int | None = Field(default=None, sa_column=Column(BigInteger))
    count_max: int | None = Field(default=None, sa_column=Column(BigInteger))


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"

    principal: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(sa_column=Column(JSONDocument, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: UUID = Field(primary_key=True)
    name: str = Field(max_length=200, unique=True)
    prefix: str = Field(max_length=32)
    key_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(max_length=200, description="Space-separated scopes.")
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class LedgerMeta(SQLModel, table=True):
    """Small values the service keeps for itself (the generated key secret)."""

    __tablename__ = "ledger_meta"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(max_length=2000)


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


EVENTS = _table(EventRow)
LOG_HEAD = _table(LogHead)
STREAMS = _table(StreamRow)
FACTS = _table(FactRow)
IDEMPOTENCY = _table(IdempotencyRecord)
API_KEYS = _table(ApiKeyRow)
META = _table(LedgerMeta)


class FlowContribution(SQLModel, table=True):
    """One version of a counted fact at one of its places: the rows projections sum.

    A dispatch to Moscow and Saint Petersburg is two rows sharing `fact_id`. A
    correction ends the old rows (`superseded_at`) and adds new ones; a
    retraction only ends them. So any past state is a filter on positions.
    """

    __tablename__ = "flow_contributions"
    __table_args__ = (
        Index("ix_flow_current", "superseded_at", "kind", "place_id", "affiliation"),
        Index("ix_flow_fact", "fact_id"),
        Index("ix_flow_position", "position"),
        # one group's rows: a view carried forward folds only the groups that changed
        Index("ix_flow_place_affiliation", "place_id", "affiliation"),
        # Stocks are a few rows among a great many flows. (Partial, so that no fold
        # over the flows is tempted to walk an index on `kind`.)
        partial_index("ix_flow_stocks", "period_start", where="kind = 'estimate'"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigIntPK, primary_key=True, autoincrement=True)
    )
    fact_id: UUID
    position: int = Field(
        sa_column=Column(BigInteger, nullable=False),
        description="The event that made this version: the fact, or its correction.",
    )
    superseded_at: int | None = Field(default=None, sa_column=Column(BigInteger))
    kind: str = Field(max_length=16, description="dispatched, repatriated or estimate")
    place_id: str = Field(max_length=100)
    country: str = Field(max_length=2)
    affiliation: str = Field(max_length=16)
    places_in_fact: int
    # How the fact version shares its count, fixed when the row is made so that a
    # fold needs no window over each fact: how many distinct places and countries
    # it names, and whether this row is the first of its place, of its country, of
    # the fact (a group counts a fact once, through that row).
    distinct_places: int = 1
    distinct_countries: int = 1
    first_of_place: bool = True
    first_of_country: bool = True
    first_of_fact: bool = True
    count_min: int = Field(sa_column=Column(BigInteger, nullable=False))
    count_best: int | None = Field(default=None, sa_column=Column(BigInteger))
    count_max: int | None = Field(default=None, sa_column=Column(BigInteger))
    period_start: date
    period_end: date | None = None
    source_id: str = Field(max_length=120)
    reported_on: date | None = Field(default=None, description="The source's publication date.")


class Corroboration(SQLModel, table=True):
    """Another source for a fact: adds a source to its rows, never workers."""

    __tablename__ = "corroborations"
    __table_args__ = (Index("ix_corroborations_position", "position"),)

    event_id: UUID = Field(primary_key=True)
    fact_id: UUID = Field(index=True)
    source_id: str = Field(max_length=120)
    position: int = Field(sa_column=Column(BigInteger, nullable=False))
    superseded_at: int | None = Field(default=None, sa_column=Column(BigInteger))


FLOWS = _table(FlowContribution)
CORROBORATIONS = _table(Corroboration)

# Gathered into the same metadata, so migrations see the webhook tables too.
import service.follow.tables  # noqa: E402, F401
