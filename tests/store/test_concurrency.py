"""Concurrent writers in separate OS processes, and a follower reading `after=N`.

Positions are handed out in commit order: a follower that has read up to N never
later meets a new event at N or below, so reading `after=N` in a loop sees every
position exactly once, in order. Each stream's versions stay gapless and the
hash chain verifies.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
import traceback
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing.synchronize import Barrier
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import func, select

from service.domain.events import EventIn, EventInBase
from service.domain.events import stream_of as stream_of_source
from service.ingest.submit import new_events
from service.ledger import Ledger, build_ledger
from service.log.read import EventFilter, read_events
from service.log.tables import EVENTS, STREAMS
from service.log.verify import verify_chain
from service.settings import Settings
from tests.factories import dispatch_body, source_body

WRITERS = 4
BATCH = 10
SHARED_SOURCE = "shared-desk-report"
FOLLOW_PAGE = 100
FOLLOW_PAUSE_SECONDS = 0.01
WRITERS_TIMEOUT_SECONDS = 300

_EVENT = TypeAdapter(EventIn)


def _writer_source(writer: int) -> str:
    return f"desk-{writer}-report"


def _dispatch(source_id: str, writer: int, number: int) -> dict[str, Any]:
    # Each fact covers its own day, so no two look like the same dispatch: this test
    # is about ordering, not about the duplicate warnings.
    # (writers * 5,000 days from 1950 stay within the years a report may give.)
    day = (date(1950, 1, 1) + timedelta(days=writer * 5_000 + number)).isoformat()
    return dispatch_body(
        source_id,
        count={"text": str(number + 1), "qualifier": "exact", "number": number + 1},
        period={"start": day, "end": day, "precision": "day", "text": day},
    )


def _settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        migrate_on_start=False,
        load_seed=False,
        bootstrap_admin=False,
        deliver_webhooks=False,
        secret_key="test-secret",
        db_pool_size=2,
    )


def _append(ledger: Ledger, bodies: list[dict[str, Any]], principal: str) -> list[int]:
    events: list[EventInBase] = [_EVENT.validate_python(body) for body in bodies]
    outcome = ledger.store.append(new_events(events, ledger.gazetteer), principal=principal)
    return [e.position for e in outcome.result.events]


def write_events(database_url: str, writer: int, events: int, start: Barrier, results: Any) -> None:
    """One OS process: record its own source, then `events` dispatches, half one by
    one and half in batches of ten, alternating between its own and the shared stream."""
    try:
        ledger = build_ledger(_settings(database_url))
        own = _writer_source(writer)
        start.wait(timeout=60)
        appended = [_append(ledger, [source_body(own)], f"writer-{writer}")]
        number = 0
        while number < events:
            singles = min(BATCH, events - number)
            for _ in range(singles):
                source = own if number % 2 else SHARED_SOURCE
                appended.append(
                    _append(ledger, [_dispatch(source, writer, number)], f"writer-{writer}")
                )
                number += 1
            batch = [
                _dispatch(own if n % 2 else SHARED_SOURCE, writer, n)
                for n in range(number, min(number + BATCH, events))
            ]
            if batch:
                appended.append(_append(ledger, batch, f"writer-{writer}"))
                number += len(batch)
        ledger.engine.dispose()
        results.put((writer, appended, None))
    except BaseException:
        results.put((writer, [], traceback.format_exc()))


@dataclass
class Run:
    followed: list[int]
    appended: dict[int, list[list[int]]]
    total: int


def run_writers_and_follow(ledger: Ledger, database_url: str, events_per_writer: int) -> Run:
    """The shared source first, then WRITERS processes at once, followed from here."""
    _append(ledger, [source_body(SHARED_SOURCE)], "editor")
    total = 1 + WRITERS * (1 + events_per_writer)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WRITERS)
    results = context.Queue()
    processes = [
        context.Process(
            target=write_events,
            args=(database_url, writer, events_per_writer, start, results),
            daemon=True,
        )
        for writer in range(WRITERS)
    ]
    for process in processes:
        process.start()
    followed: list[int] = []
    appended: dict[int, list[list[int]]] = {}
    give_up = time.monotonic() + WRITERS_TIMEOUT_SECONDS  # a watchdog, not a measurement
    try:
        while len(appended) < WRITERS:
            assert time.monotonic() < give_up, f"only writers {sorted(appended)} answered"
            page = _follow_once(ledger, followed[-1] if followed else 0)
            followed += page
            # Caught up: wait a moment rather than spin, the writers need the CPU.
            pause = FOLLOW_PAUSE_SECONDS if len(page) < FOLLOW_PAGE else 0.0
            try:
                writer, positions, failure = results.get(timeout=pause)
            except queue.Empty:
                continue
            assert failure is None, f"writer {writer} failed:\n{failure}"
            appended[writer] = positions
        while page := _follow_once(ledger, followed[-1] if followed else 0):
            followed += page
    finally:
        for process in processes:
            process.join(timeout=WRITERS_TIMEOUT_SECONDS)
            if process.is_alive():
                process.kill()
    return Run(followed=followed, appended=appended, total=total)


def _follow_once(ledger: Ledger, after: int) -> list[int]:
    # A new connection per page, as a polling client would have: nothing is held between.
    with ledger.engine.connect() as conn:
        return [e.position for e in read_events(conn, EventFilter(after=after), FOLLOW_PAGE)]


def assert_log_is_whole(ledger: Ledger, run: Run) -> None:
    # The follower saw every position exactly once, in order.
    assert run.followed == list(range(1, run.total + 1))
    # Each append's positions are consecutive: a batch is never interleaved with another.
    every_append = [positions for appends in run.appended.values() for positions in appends]
    for positions in every_append:
        assert positions == list(range(positions[0], positions[0] + len(positions)))
    assert sorted(p for positions in every_append for p in positions) == list(
        range(2, run.total + 1)
    )
    with ledger.engine.connect() as conn:
        # Every stream's versions run 1..n without a gap, and the stream row says n.
        streams = dict(conn.execute(select(STREAMS.c.stream, STREAMS.c.version)).all())
        assert set(streams) == {
            stream_of_source(s)
            for s in [SHARED_SOURCE, *(_writer_source(w) for w in range(WRITERS))]
        }
        for stream, version in streams.items():
            versions = conn.execute(
                select(EVENTS.c.stream_version)
                .where(EVENTS.c.stream == stream)
                .order_by(EVENTS.c.position)
            ).scalars()
            assert list(versions) == list(range(1, version + 1)), stream
        assert conn.execute(select(func.count()).select_from(EVENTS)).scalar_one() == run.total
        report = verify_chain(conn)
    assert report.ok, report
    assert report.checked == run.total


@pytest.mark.postgres_only
def test_four_writer_processes_and_a_follower_see_one_gapless_ordered_log(
    ledger: Ledger, database_url: str
) -> None:
    # Given a shared source, when four processes each append 500 events while a
    # follower reads after the last position it saw
    run = run_writers_and_follow(ledger, database_url, events_per_writer=500)

    # then the follower saw positions 1..2005 once each, in order, and the log is whole
    assert run.total == 2005
    assert_log_is_whole(ledger, run)


def test_concurrent_writer_processes_leave_a_gapless_ordered_log(
    ledger: Ledger, database_url: str
) -> None:
    # The same race, smaller, so that it runs on SQLite (one writer at a time by its
    # write lock) as well as on PostgreSQL.
    run = run_writers_and_follow(ledger, database_url, events_per_writer=40)

    assert_log_is_whole(ledger, run)
