"""Restore an export into an empty ledger: the same positions, ids, hashes and times.

The file is checked link by link (positions from 1 without a gap, each
`prev_hash` the hash before it, each hash recomputed from the event) as it is
written, verbatim, in one transaction, with each append rule's `apply` run on
the restored events so the derived tables match. A non-empty ledger or a
broken chain is refused, and nothing of it stays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, insert, select, update

from service.db.engine import SQLITE_BEGIN
from service.domain.chain import GENESIS_HASH, event_hash
from service.domain.envelope import RecordedEvent
from service.log.append import UNORDERED_KEY, EventStore, event_row, lock_head
from service.log.statistics import refresh_statistics
from service.log.tables import EVENTS, LOG_HEAD, META, STREAMS

CHUNK = 1000


class RestoreRefused(Exception):
    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line is not None else reason)
        self.line = line
        self.reason = reason


def read_envelopes(lines: Iterable[str]) -> Iterator[RecordedEvent]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield RecordedEvent.model_validate_json(line)
        except ValidationError as invalid:
            first = invalid.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise RestoreRefused(
                f"not an event envelope: {where}: {first['msg']}", number
            ) from None


class ChainCheck:
    """Follows a chain link by link from position 1 and names the first break."""

    def __init__(self) -> None:
        self.prev_hash, self.position = GENESIS_HASH, 0
        self.latest_recorded_at: datetime | None = None
        self.unordered_until = 0  # the last position stamped earlier than the one before

    def check(self, event: RecordedEvent) -> None:
        expected = self.position + 1
        problem = None
        if event.position != expected:
            problem = f"expected position {expected}, found {event.position}"
        elif event.prev_hash != self.prev_hash:
            problem = "prev_hash is not the previous event's hash"
        elif event_hash(self.prev_hash, event.hashed_fields()) != event.hash:
            problem = "the hash does not match the event's content"
        if problem is not None:
            raise RestoreRefused(f"the chain breaks at position {expected}: {problem}")
        self.prev_hash, self.position = event.hash, expected
        if self.latest_recorded_at is not None and event.recorded_at < self.latest_recorded_at:
            self.unordered_until = expected
        else:
            self.latest_recorded_at = event.recorded_at


def restore(
    store: EventStore,
    lines: Iterable[str],
    *,
    progress: Callable[[int], None] = lambda _: None,
) -> int:
    """Write an exported log into the empty ledger of `store`; the number of events.

    One transaction: a break found anywhere in the file leaves the ledger empty.
    """
    chain = ChainCheck()
    immediate = store.engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    with immediate as conn, conn.begin():
        head = lock_head(conn)
        if head.position != 0:
            raise RestoreRefused(
                f"the ledger is not empty (head at position {head.position}); "
                "restore only into a freshly migrated database"
            )
        for chunk in _chunks(read_envelopes(lines), CHUNK):
            for event in chunk:
                chain.check(event)
            _write(conn, chunk)
            logged = [event.logged() for event in chunk]
            for rule in store.rules:
                rule.apply(conn, logged)
            progress(len(chunk))
        conn.execute(
            update(LOG_HEAD)
            .where(LOG_HEAD.c.id == 1)
            .values(
                position=chain.position,
                hash=chain.prev_hash,
                recorded_at=chain.latest_recorded_at,
            )
        )
        refresh_statistics(conn)
        if chain.unordered_until:  # an old log whose times go back: known_at reads it all
            conn.execute(insert(META).values(key=UNORDERED_KEY, value=str(chain.unordered_until)))
    return chain.position


def _chunks(events: Iterator[RecordedEvent], size: int) -> Iterator[list[RecordedEvent]]:
    while chunk := list(islice(events, size)):
        yield chunk


def _write(conn: Connection, events: list[RecordedEvent]) -> None:
    known = set(
        conn.execute(
            select(STREAMS.c.stream).where(STREAMS.c.stream.in_({e.stream for e in events}))
        ).scalars()
    )
    opened: list[dict[str, Any]] = []
    versions: dict[str, int] = {}
    for event in events:
        if event.stream not in known:
            known.add(event.stream)
            opened.append(
                {
                    "stream": event.stream,
                    "source_id": event.provenance["source_id"],
                    "version": 0,
                    "opened_at_position": event.position,
                }
            )
        versions[event.stream] = event.stream_version
    if opened:
        conn.execute(insert(STREAMS), opened)
    conn.execute(insert(EVENTS), [event_row(e) for e in events])
    for stream, version in versions.items():
        conn.execute(update(STREAMS).where(STREAMS.c.stream == stream).values(version=version))
