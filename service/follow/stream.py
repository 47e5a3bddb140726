"""The event stream: catch up in pages, then follow live, as server-sent events.

Each page is read on a short-lived connection and released before the page is
sent, so a slow client holds no connection, no transaction and no lock: it
only slows its own stream.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio.to_thread
from sqlalchemy import Engine

from service.domain.envelope import RecordedEvent
from service.follow.watch import LogWatch
from service.log.append import read_head
from service.log.export import envelope_json
from service.log.read import EventFilter, SchemaForm, in_schema, read_events

PAGE_SIZE = 500
RETRY_MILLISECONDS = 2000
HEARTBEAT = b": heartbeat\n\n"


@dataclass(frozen=True)
class StreamQuery:
    after: int
    types: tuple[str, ...] = ()
    source_id: str | None = None
    schema: SchemaForm = "stored"


@dataclass(frozen=True)
class Page:
    events: list[RecordedEvent]
    scanned_to: int
    """Every matching event up to this position has been read."""
    full: bool


def read_page(engine: Engine, query: StreamQuery, after: int) -> Page:
    with engine.connect() as conn:
        head = read_head(conn).position
        events = read_events(
            conn,
            EventFilter(
                after=after, types=query.types, source_id=query.source_id, up_to_position=head
            ),
            PAGE_SIZE,
        )
        events = in_schema(conn, events, query.schema)
    full = len(events) == PAGE_SIZE
    # A filtered stream may match nothing up to the head: it still moves on to it.
    scanned_to = events[-1].position if full else max(head, after)
    return Page(events, scanned_to, full)


def sse_message(event: RecordedEvent) -> bytes:
    data = envelope_json(event)
    return f"id: {event.position}\nevent: {event.type}\ndata: {data}\n\n".encode()


async def follow(
    engine: Engine, watch: LogWatch, query: StreamQuery, heartbeat_seconds: float
) -> AsyncIterator[bytes]:
    """Every matching event after `query.after`, in position order, forever."""
    yield f"retry: {RETRY_MILLISECONDS}\n: following the log after {query.after}\n\n".encode()
    position, last_sent = query.after, time.monotonic()
    while True:
        page = await anyio.to_thread.run_sync(read_page, engine, query, position)
        if page.events:
            yield b"".join(sse_message(e) for e in page.events)
            last_sent = time.monotonic()
        position = page.scanned_to
        if page.full:
            continue
        quiet_for = time.monotonic() - last_sent
        moved = await watch.wait_beyond(position, max(heartbeat_seconds - quiet_for, 0.0))
        if not moved or time.monotonic() - last_sent >= heartbeat_seconds:
            yield HEARTBEAT
            last_sent = time.monotonic()
