"""Appending events: one transaction, one lock, gapless positions, a hash chain.

Every append takes the single `log_head` row first (PostgreSQL: `FOR UPDATE`;
SQLite: `BEGIN IMMEDIATE`). Holding it to commit means positions are handed out
in commit order, so a reader following `position > N` never misses an event
that commits later with a smaller position. Batches pay for the lock once, and
so do appends that arrive together (see `EventStore`: group commit).
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, Select, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from service.db.backend import Backend, backend
from service.db.bulk import insert_rows
from service.db.engine import SQLITE_BEGIN
from service.domain.chain import event_hash
from service.domain.clock import Clock, utc_now
from service.domain.envelope import LoggedEvent, RecordedEvent
from service.domain.errors import CommitOutcomeUnknown, IdempotencyConflict, WrongExpectedVersion
from service.domain.events import stream_of
from service.domain.ids import Uuid7Source
from service.domain.payloads import Payload
from service.log.tables import EVENTS, IDEMPOTENCY, STREAMS
from service.log.tables import LOG_HEAD as HEAD


@dataclass(frozen=True)
class NewEvent:
    """An event ready to record: payload validated and normalised, typed (`payload`,
    what the rules read) and as the JSON the log stores and hashes (`data`, its dump)."""

    type: str
    schema_version: int
    payload: Payload
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
    reason: Literal["another_source", "same_source"] = Field(
        default="another_source",
        description="Who reported the fact it may repeat: `another_source` (the same workers "
        "seen by a second witness?) or `same_source` (a report repeating its own fact?).",
    )
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

    def warnings(
        self, conn: Connection, events: Sequence[NewEvent], ids: Sequence[UUID]
    ) -> list[AppendWarning]:
        """Warnings for events about to be recorded under `ids`: one may name another
        event of the same append, by the id it will have."""
        ...

    def apply(self, conn: Connection, events: Sequence[LoggedEvent]) -> None:
        """Keep derived tables (facts, projections, outbox) in step with the log."""
        ...

    def committed(self, events: Sequence[RecordedEvent]) -> None:
        """After the commit: what a rule may now remember of these events for good."""
        ...


class WriteOnlyRules:
    """Base of the `AppendRules` that only keep something in step (`apply`): they check
    nothing, warn of nothing, and remember nothing after the commit."""

    def check(self, conn: Connection, events: Sequence[NewEvent]) -> list[NewEvent]:
        return list(events)

    def warnings(
        self, conn: Connection, events: Sequence[NewEvent], ids: Sequence[UUID]
    ) -> list[AppendWarning]:
        return []

    def committed(self, events: Sequence[RecordedEvent]) -> None:
        pass


@dataclass
class Head:
    position: int
    hash: str
    recorded_at: datetime | None = None


MAX_GROUP_EVENTS = 1000
"""A group commit takes waiting appends up to this many events (always one append)."""

GATHER_SECONDS = 0.002
"""After a group of several appends, the next leader waits up to this long for as many
to arrive again (their writers are busy reading their answers): a longer wait for
each, far fewer commits. A lone writer never waits (PostgreSQL's `commit_delay`)."""

UNORDERED_KEY = "recorded_at_unordered_until"
"""In `ledger_meta`, the last position of a log recorded before appends kept recording
times in order (migration 0006) where a time went back; absent for an ordered log."""

EVENT_IDS = Uuid7Source()
"""Every event id this process makes: increasing, a batch's drawn at once."""

Stamp = tuple[str, str | None]
"""Who records an event, and under which Idempotency-Key."""


@dataclass
class _Waiting:
    """One `append` call, waiting to be written by whichever thread leads the next group."""

    events: Sequence[NewEvent]
    principal: str
    idempotency: IdempotencyRequest | None
    woken: threading.Event = field(default_factory=threading.Event)
    leads: bool = False
    outcome: AppendOutcome | None = None
    failure: BaseException | None = None

    @property
    def answered(self) -> bool:
        return self.outcome is not None or self.failure is not None

    @property
    def stamps(self) -> list[Stamp]:
        key = idempotency_digest(self.idempotency.key) if self.idempotency else None
        return [(self.principal, key)] * len(self.events)


def idempotency_digest(key: str) -> str:
    """What an event's envelope keeps of the Idempotency-Key it was sent with: a digest.
    The envelope is public (and hashed); the key is the client's own, and may say more
    than it should (a file name, a user). Retries are matched on the key itself, in the
    idempotency table, which is never shown."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


@dataclass
class EventStore:
    """Appends events; concurrent appends in one process share a transaction (group commit).

    While one thread writes, others queue. When it commits, the first in the queue
    leads the next group: every append waiting then (up to MAX_GROUP_EVENTS events)
    goes into one transaction under one lock and one commit, instead of each paying
    for them in turn. Each append still lands whole or not at all: a group that is
    refused is rolled back and written again append by append, each in a savepoint,
    so only the faulty append fails, with its own error.
    """

    engine: Engine
    rules: Sequence[AppendRules] = field(default_factory=list)
    idempotency_ttl: timedelta = timedelta(hours=48)
    clock: Clock = utc_now
    """The time events are recorded at (never before the head's: see `_write`)."""
    _queue: deque[_Waiting] = field(default_factory=deque, init=False, repr=False)
    _guard: threading.Condition = field(default_factory=threading.Condition, init=False, repr=False)
    _writing: bool = field(default=False, init=False, repr=False)
    _last_group: int = field(default=1, init=False, repr=False)

    def append(
        self,
        events: Sequence[NewEvent],
        *,
        principal: str,
        idempotency: IdempotencyRequest | None = None,
    ) -> AppendOutcome:
        """Record `events` atomically, or raise why not (a LedgerError for the client)."""
        waiting = _Waiting(events, principal, idempotency)
        with self._guard:
            self._queue.append(waiting)
            if not self._writing:
                self._writing = waiting.leads = True
            self._guard.notify_all()  # a leader may be gathering
        if not waiting.leads:
            waiting.woken.wait()
        if not waiting.answered:  # woken to lead: its own append comes first
            self._lead()
        if waiting.failure is not None:
            raise waiting.failure
        assert waiting.outcome is not None
        return waiting.outcome

    def _lead(self) -> None:
        with self._guard:
            if self._last_group > 1:
                expected = self._last_group
                self._guard.wait_for(lambda: len(self._queue) >= expected, GATHER_SECONDS)
            group = [self._queue.popleft()]
            size = len(group[0].events)
            while self._queue and size + len(self._queue[0].events) <= MAX_GROUP_EVENTS:
                size += len(self._queue[0].events)
                group.append(self._queue.popleft())
            self._last_group = len(group)
        try:
            answers = self._write_group(group)
        except BaseException as failure:  # nothing of the group was committed
            answers = [failure] * len(group)
        written = [
            event
            for answer in answers
            if isinstance(answer, AppendOutcome) and not answer.replayed
            for event in answer.result.events
        ]
        for rule in self.rules:
            rule.committed(written)
        for waiting, answer in zip(group, answers, strict=True):
            if isinstance(answer, AppendOutcome):
                waiting.outcome = answer
            else:
                waiting.failure = answer
        with self._guard:
            if self._queue:
                self._queue[0].leads = True
                self._queue[0].woken.set()
            else:
                self._writing = False
        for waiting in group:
            waiting.woken.set()

    def _write_group(self, group: list[_Waiting]) -> list[AppendOutcome | BaseException]:
        if len(group) == 1:  # the plain case: an error rolls everything back
            with self._transaction() as (conn, head):
                outcome, _ = self._append_one(conn, head, group[0])
            return [outcome]
        keys = [(w.principal, w.idempotency.key) for w in group if w.idempotency]
        if len(keys) == len(set(keys)):  # else a retry races its original: one at a time
            try:
                with self._transaction() as (conn, head):
                    return self._write_together(conn, head, group)
            except CommitOutcomeUnknown:
                raise  # it may be recorded: writing it again could record it twice
            except Exception:  # refused as a whole, nothing written: now each on its own
                pass
        with self._transaction() as (conn, head):
            return self._append_one_by_one(conn, head, group)

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Connection, Head]]:
        """A connection in a transaction holding the append lock, committed at the end.

        A failure before the COMMIT is sent rolls everything back: nothing was recorded,
        for certain. A failure of the COMMIT itself (the connection lost while it was
        under way) leaves the outcome unknown: the server may have committed. That is
        `CommitOutcomeUnknown`, never "nothing was recorded"."""
        connection = self.engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with connection as conn:
            transaction = conn.begin()
            try:
                yield conn, lock_head(conn)
            except BaseException:
                if transaction.is_active:
                    transaction.rollback()
                raise
            try:
                transaction.commit()
            except DBAPIError as lost:
                raise CommitOutcomeUnknown() from lost

    def _append_one(
        self, conn: Connection, head: Head, waiting: _Waiting
    ) -> tuple[AppendOutcome, Head]:
        if waiting.idempotency is not None:
            replay = _replay(conn, waiting.principal, waiting.idempotency)
            if replay is not None:
                return AppendOutcome(replay, replayed=True), head
        recorded, warnings, head = self._record(conn, head, waiting.events, waiting.stamps)
        result = AppendResult(events=recorded, warnings=warnings)
        if waiting.idempotency is not None:
            self._remember(conn, waiting.principal, waiting.idempotency, result)
        return AppendOutcome(result), head

    def _append_one_by_one(
        self, conn: Connection, head: Head, group: list[_Waiting]
    ) -> list[AppendOutcome | BaseException]:
        answers: list[AppendOutcome | BaseException] = []
        for waiting in group:
            savepoint = conn.begin_nested()
            try:
                outcome, head = self._append_one(conn, head, waiting)
            except Exception as refused:
                savepoint.rollback()
                answers.append(refused)
            else:
                savepoint.commit()
                answers.append(outcome)
        return answers

    def _write_together(
        self, conn: Connection, head: Head, group: list[_Waiting]
    ) -> list[AppendOutcome | BaseException]:
        answers: list[AppendOutcome | None] = []
        for waiting in group:
            replay = (
                _replay(conn, waiting.principal, waiting.idempotency)
                if waiting.idempotency is not None
                else None
            )
            answers.append(None if replay is None else AppendOutcome(replay, replayed=True))
        writing = [w for w, answer in zip(group, answers, strict=True) if answer is None]
        recorded, warnings, _ = self._record(
            conn,
            head,
            [e for w in writing for e in w.events],
            [s for w in writing for s in w.stamps],
        )
        start = 0
        for index, waiting in enumerate(group):
            if answers[index] is not None:
                continue
            end = start + len(waiting.events)
            result = AppendResult(
                events=recorded[start:end],
                warnings=[
                    w.model_copy(update={"index": w.index - start})
                    for w in warnings
                    if start <= w.index < end
                ],
            )
            if waiting.idempotency is not None:
                self._remember(conn, waiting.principal, waiting.idempotency, result)
            answers[index] = AppendOutcome(result)
            start = end
        return [answer for answer in answers if answer is not None]  # all are, now

    def _record(
        self, conn: Connection, head: Head, events: Sequence[NewEvent], stamps: Sequence[Stamp]
    ) -> tuple[list[RecordedEvent], list[AppendWarning], Head]:
        """Check, warn, write and keep the derived tables in step: one append, or a group's
        appends together. The ids are drawn first, so a warning can name an event of the
        same append."""
        checked = self._checked(conn, events)
        ids = EVENT_IDS.take(len(checked))
        warnings = [w for rule in self.rules for w in rule.warnings(conn, checked, ids)]
        recorded, head = self._write(conn, head, checked, ids, stamps)
        logged = [
            LoggedEvent(r.id, r.position, r.type, r.source_id, e.payload)
            for r, e in zip(recorded, checked, strict=True)
        ]
        for rule in self.rules:
            rule.apply(conn, logged)
        return recorded, warnings, head

    def _checked(self, conn: Connection, events: Sequence[NewEvent]) -> Sequence[NewEvent]:
        checked: Sequence[NewEvent] = events
        for rule in self.rules:
            checked = rule.check(conn, checked)
        return checked

    def _write(
        self,
        conn: Connection,
        head: Head,
        events: Sequence[NewEvent],
        ids: Sequence[UUID],
        stamps: Sequence[Stamp],
    ) -> tuple[list[RecordedEvent], Head]:
        opened = [
            {
                "stream": event.stream,
                "source_id": event.source_id,
                "version": 0,
                "opened_at_position": head.position + 1 + index,
            }
            for index, event in enumerate(events)
            if event.opens_stream
        ]
        if opened:
            conn.execute(insert(STREAMS), opened)
        versions = _advance_streams(conn, Counter(e.stream for e in events))
        # Never earlier than the events before: a clock set back must not reorder what
        # was known when (`known_at` relies on it: see projections/positions.py).
        now = max(self.clock(), head.recorded_at or datetime.min.replace(tzinfo=UTC))
        position, prev_hash = head.position, head.hash
        recorded: list[RecordedEvent] = []
        for index, (event, (principal, idempotency_key)) in enumerate(
            zip(events, stamps, strict=True)
        ):
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
            # Every value is already checked (the payload by its model, the rest made
            # here): constructing skips validating each event's JSON a second time.
            envelope = RecordedEvent.model_construct(
                id=ids[index],
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
                idempotency_key=idempotency_key,
                correlation_id=event.correlation_id,
                causation_id=event.causation_id,
            )
            envelope.hash = event_hash(prev_hash, envelope.hashed_fields())
            prev_hash = envelope.hash
            recorded.append(envelope)
        insert_rows(conn, EVENTS, [event_row(e) for e in recorded])
        conn.execute(
            _MOVE_HEAD, {"new_position": position, "new_hash": prev_hash, "new_recorded_at": now}
        )
        return recorded, Head(position, prev_hash, now)

    def _remember(
        self,
        conn: Connection,
        principal: str,
        idempotency: IdempotencyRequest,
        result: AppendResult,
    ) -> None:
        now = self.clock()
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


# Statements every append runs, built once: building one costs about as much as running it.
_READ_HEAD = select(HEAD.c.position, HEAD.c.hash, HEAD.c.recorded_at).where(HEAD.c.id == 1)
_MOVE_HEAD = (
    update(HEAD)
    .where(HEAD.c.id == 1)
    .values(
        position=bindparam("new_position"),
        hash=bindparam("new_hash"),
        recorded_at=bindparam("new_recorded_at"),
    )
)
_ADVANCE_STREAM = (
    update(STREAMS)
    .where(STREAMS.c.stream == bindparam("advanced"))
    .values(version=STREAMS.c.version + bindparam("by"))
    .returning(STREAMS.c.version)
)


@cache  # built once per backend, as the statements above
def _lock_head_of(chosen: Backend) -> Select[Any]:
    return chosen.locked_for_append(_READ_HEAD)


def lock_head(conn: Connection) -> Head:
    """Take the append lock (held to commit) and return the head."""
    row = conn.execute(_lock_head_of(backend(conn))).one()
    return Head(position=row.position, hash=row.hash, recorded_at=row.recorded_at)


def read_head(conn: Connection) -> Head:
    row = conn.execute(_READ_HEAD).one()
    return Head(position=row.position, hash=row.hash, recorded_at=row.recorded_at)


def _advance_streams(conn: Connection, appended: Counter[str]) -> dict[str, int]:
    """Move each stream's version on by its events; the versions before, per stream.

    One UPDATE … RETURNING per stream rather than a read and a write: a version
    conflict found afterwards rolls the update back with the rest."""
    before: dict[str, int] = {}
    for stream, count in appended.items():
        moved = conn.execute(
            _ADVANCE_STREAM, {"advanced": stream, "by": count}
        ).scalar_one_or_none()
        before[stream] = 0 if moved is None else moved - count
    return before


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


def event_row(event: RecordedEvent) -> dict[str, Any]:
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
