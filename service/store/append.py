"""Appending events: one transaction, one lock, gapless positions, a hash chain.

Every append takes the single `log_head` row first (PostgreSQL: `FOR UPDATE`;
SQLite: `BEGIN IMMEDIATE`). Holding it to commit means positions are handed out
in commit order, so a reader following `position > N` never misses an event
that commits later with a smaller position. Batches pay for the lock once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, delete, insert, select, update
from uuid6 import uuid7

from service.db import SQLITE_BEGIN
from service.domain.chain import event_hash
from service.domain.envelope import RecordedEvent
from service.domain.errors import IdempotencyConflict, WrongExpectedVersion
from service.domain.events import stream_of
from service.store.tables import EVENTS, IDEMPOTENCY, STREAMS
from service.store.tables import LOG_HEAD as HEAD


@dataclass(frozen=True)
class NewEvent:
    """An event ready to record: payload validated and normalised, JSON-ready."""

    type: str
    schema_version: int
    data: dict[str, Any]
    provenance: dict[str, Any]
    expected_version: int | None = None
    correlation_id: str | None = None
    causation_id: UUID | None = None
    opens_stream: bool = False

    @property
    def source_id(self) -> str:
        source_id: str = self.provenance["source_id"]
        return source_id

    @property
    def stream(self) -> str:
        return stream_of(self.source_id)


class AppendWarning(BaseModel):
    """Accepted, but look: the fact may already be in the ledger."""

    index: int = Field(description="The event's index in the request (0 for a single event).")
    possible_duplicate_of: UUID
    hint: str = "If this is the same fact from another source, record it as fact.corroborated."


class AppendResult(BaseModel):
    events: list[RecordedEvent]
    warnings: list[AppendWarning] = Field(default_factory=list)


@dataclass(frozen=True)
class IdempotencyRequest:
    key: str
    request_hash: str


@dataclass
class AppendOutcome:
    result: AppendResult
    replayed: bool = False


class AppendRules(Protocol):
    """What the meaning of the events adds to an append, inside its transaction."""

    def check(self, conn: Connection, events: Sequence[NewEvent]) -> list[NewEvent]:
        """Refuse (raise a LedgerError) or return the events, possibly normalised further."""
        ...

    def warnings(self, conn: Connection, events: Sequence[NewEvent]) -> list[AppendWarning]: ...

    def apply(self, conn: Connection, events: Sequence[RecordedEvent]) -> None:
        """Keep derived tables (facts, projections, outbox) in step with the log."""
        ...


@dataclass
class Head:
    position: int
    hash: str


@dataclass
class EventStore:
    engine: Engine
    rules: Sequence[AppendRules] = field(default_factory=list)
    idempotency_ttl: timedelta = timedelta(hours=48)

    def append(
        self,
        events: Sequence[NewEvent],
        *,
        principal: str,
        idempotency: IdempotencyRequest | None = None,
    ) -> AppendOutcome:
        with self.engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) as conn:
            with conn.begin():
                head = lock_head(conn)
                if idempotency is not None:
                    replay = _replay(conn, principal, idempotency)
                    if replay is not None:
                        return AppendOutcome(replay, replayed=True)
                checked: Sequence[NewEvent] = events
                for rule in self.rules:
                    checked = rule.check(conn, checked)
                warnings = [w for rule in self.rules for w in rule.warnings(conn, checked)]
                recorded = self._write(conn, head, checked, principal, idempotency)
                for rule in self.rules:
                    rule.apply(conn, recorded)
                result = AppendResult(events=recorded, warnings=warnings)
                if idempotency is not None:
                    self._remember(conn, principal, idempotency, result)
            return AppendOutcome(result)

    def _write(
        self,
        conn: Connection,
        head: Head,
        events: Sequence[NewEvent],
        principal: str,
        idempotency: IdempotencyRequest | None,
    ) -> list[RecordedEvent]:
        versions = _stream_versions(conn, {e.stream for e in events})
        now = datetime.now(UTC)
        position, prev_hash = head.position, head.hash
        recorded: list[RecordedEvent] = []
        opened: list[dict[str, Any]] = []
        for index, event in enumerate(events):
            current = versions.get(event.stream, 0)
            if event.expected_version is not None and event.expected_version != current:
                raise WrongExpectedVersion(
                    event.stream,
                    event.expected_version,
                    current,
                    pointer=_pointer(index, len(events), "expected_version"),
                )
            position += 1
            versions[event.stream] = current + 1
            if event.opens_stream:
                opened.append(
                    {
                        "stream": event.stream,
                        "source_id": event.source_id,
                        "version": 0,
                        "opened_at_position": position,
                    }
                )
            envelope = RecordedEvent(
                id=uuid7(),
                position=position,
                stream=event.stream,
                stream_version=current + 1,
                type=event.type,
                schema_version=event.schema_version,
                data=event.data,
                provenance=event.provenance,
                recorded_at=now,
                recorded_by=principal,
                hash="",
                prev_hash=prev_hash,
                idempotency_key=idempotency.key if idempotency else None,
                correlation_id=event.correlation_id,
                causation_id=event.causation_id,
            )
            envelope.hash = event_hash(prev_hash, envelope.hashed_fields())
            prev_hash = envelope.hash
            recorded.append(envelope)
        if opened:
            conn.execute(insert(STREAMS), opened)
        conn.execute(insert(EVENTS), [_row(e) for e in recorded])
        for stream, version in versions.items():
            conn.execute(update(STREAMS).where(STREAMS.c.stream == stream).values(version=version))
        conn.execute(update(HEAD).where(HEAD.c.id == 1).values(position=position, hash=prev_hash))
        return recorded

    def _remember(
        self,
        conn: Connection,
        principal: str,
        idempotency: IdempotencyRequest,
        result: AppendResult,
    ) -> None:
        now = datetime.now(UTC)
        purge_expired_idempotency_keys(conn, now - self.idempotency_ttl)
        conn.execute(
            insert(IDEMPOTENCY).values(
                principal=principal,
                key=idempotency.key,
                request_hash=idempotency.request_hash,
                status_code=201,
                response=result.model_dump(mode="json"),
                created_at=now,
            )
        )


def _pointer(index: int, count: int, *path: str | int) -> tuple[str | int, ...]:
    return ("events", index, *path) if count > 1 else path


def lock_head(conn: Connection) -> Head:
    """Take the append lock (held to commit) and return the head."""
    query = select(HEAD.c.position, HEAD.c.hash).where(HEAD.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    return Head(position=row.position, hash=row.hash)


def read_head(conn: Connection) -> Head:
    row = conn.execute(select(HEAD.c.position, HEAD.c.hash).where(HEAD.c.id == 1)).one()
    return Head(position=row.position, hash=row.hash)


def _stream_versions(conn: Connection, streams: set[str]) -> dict[str, int]:
    rows = conn.execute(
        select(STREAMS.c.stream, STREAMS.c.version).where(STREAMS.c.stream.in_(streams))
    )
    return {row.stream: row.version for row in rows}


def _replay(
    conn: Connection, principal: str, idempotency: IdempotencyRequest
) -> AppendResult | None:
    row = conn.execute(
        select(IDEMPOTENCY.c.request_hash, IDEMPOTENCY.c.response).where(
            IDEMPOTENCY.c.principal == principal, IDEMPOTENCY.c.key == idempotency.key
        )
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != idempotency.request_hash:
        raise IdempotencyConflict(
            "This Idempotency-Key was used before with a different request body; "
            "use a new key for a new request.",
            pointer=("header", "idempotency-key"),
        )
    return AppendResult.model_validate(row.response)


def _row(event: RecordedEvent) -> dict[str, Any]:
    return {
        "position": event.position,
        "id": event.id,
        "stream": event.stream,
        "stream_version": event.stream_version,
        "type": event.type,
        "schema_version": event.schema_version,
        "source_id": event.provenance["source_id"],
        "data": event.data,
        "provenance": event.provenance,
        "recorded_at": event.recorded_at,
        "recorded_by": event.recorded_by,
        "hash": event.hash,
        "prev_hash": event.prev_hash,
        "idempotency_key": event.idempotency_key,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
    }


def purge_expired_idempotency_keys(conn: Connection, older_than: datetime) -> int:
    return conn.execute(delete(IDEMPOTENCY).where(IDEMPOTENCY.c.created_at < older_than)).rowcount
