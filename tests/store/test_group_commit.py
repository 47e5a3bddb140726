"""Group commit: appends that wait together are written together, yet each stands alone.

While one append holds the log, the appends arriving behind it queue up; the
next transaction takes them all, under one lock and one commit. Each still lands
whole or not at all, gets its own positions, warnings and errors, as if it had
been written on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import TypeAdapter

from service.db.engine import SQLITE_BEGIN
from service.domain.errors import UnknownSource
from service.domain.events import EventIn, EventInBase
from service.ingest.submit import new_events
from service.ledger import Ledger
from service.log.append import AppendOutcome, IdempotencyRequest, NewEvent, lock_head
from service.log.read import EventFilter, read_events
from service.log.verify import verify_chain
from tests.factories import dispatch_body, source_body

QUEUED = 4
_EVENT = TypeAdapter[EventInBase](EventIn)

Answer = AppendOutcome | BaseException


def events_of(*bodies: dict[str, Any], ledger: Ledger) -> list[NewEvent]:
    return new_events([_EVENT.validate_python(b) for b in bodies], ledger.gazetteer)


@contextmanager
def log_held_elsewhere(ledger: Ledger) -> Iterator[None]:
    """Another writer holds the append lock until the block ends."""
    connection = ledger.engine.connect().execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    with connection as conn, conn.begin():
        lock_head(conn)
        yield


def appends_queued_behind_a_writer(
    ledger: Ledger, first: Callable[[], AppendOutcome], queued: list[Callable[[], AppendOutcome]]
) -> tuple[Answer, list[Answer]]:
    """`first` starts while the log is held elsewhere; `queued` wait behind it; then the
    log is let go. Returns each call's outcome or the error it raised."""
    answers: dict[int, Answer] = {}

    def run(number: int, call: Callable[[], AppendOutcome]) -> None:
        try:
            answers[number] = call()
        except BaseException as refused:
            answers[number] = refused

    calls = [first, *queued]
    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    with log_held_elsewhere(ledger):
        # The store's queue is read (not changed) only to know when everyone waits:
        # that makes the race the same every run.
        threads[0].start()
        _wait_until(lambda: ledger.store._writing and not ledger.store._queue)
        for thread in threads[1:]:
            thread.start()
        _wait_until(lambda: len(ledger.store._queue) == len(queued))
    for thread in threads:
        thread.join(timeout=60)
    return answers[0], [answers[n] for n in range(1, len(calls))]


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the appends never queued"
        time.sleep(0.001)


def outcome(answer: Answer) -> AppendOutcome:
    assert isinstance(answer, AppendOutcome), answer
    return answer


@pytest.fixture
def recorded_source(ledger: Ledger) -> None:
    ledger.store.append(events_of(source_body(), ledger=ledger), principal="desk")


@pytest.mark.usefixtures("recorded_source")
def test_appends_waiting_together_are_recorded_in_one_transaction(ledger: Ledger) -> None:
    def dispatch(number: int) -> Callable[[], AppendOutcome]:
        body = dispatch_body(count={"text": str(number), "qualifier": "exact", "number": number})
        return lambda: ledger.store.append(events_of(body, ledger=ledger), principal=f"d{number}")

    first, queued = appends_queued_behind_a_writer(
        ledger, dispatch(1), [dispatch(n) for n in range(2, 2 + QUEUED)]
    )

    together = [outcome(a).result.events[0] for a in queued]
    assert outcome(first).result.events[0].position == 2
    assert sorted(e.position for e in together) == list(range(3, 3 + QUEUED))
    # one transaction: one moment of recording, each event still under its own key's name
    assert len({e.recorded_at for e in together}) == 1
    assert {e.recorded_by for e in together} == {f"d{n}" for n in range(2, 2 + QUEUED)}
    with ledger.engine.connect() as conn:
        assert verify_chain(conn).ok


@pytest.mark.usefixtures("recorded_source")
def test_a_refused_append_in_a_group_fails_alone_with_its_own_error(ledger: Ledger) -> None:
    good = events_of(dispatch_body(), ledger=ledger)
    unknown = events_of(dispatch_body("never-recorded-source"), ledger=ledger)

    _, queued = appends_queued_behind_a_writer(
        ledger,
        lambda: ledger.store.append(good, principal="desk"),
        [
            lambda: ledger.store.append(good, principal="desk"),
            lambda: ledger.store.append(unknown, principal="desk"),
            lambda: ledger.store.append(good, principal="desk"),
        ],
    )

    refused = queued[1]
    assert isinstance(refused, UnknownSource)
    assert refused.pointer == ("provenance", "source_id")  # pointing into its own request
    assert [outcome(a).result.events[0].position for a in (queued[0], queued[2])] == [3, 4]
    with ledger.engine.connect() as conn:
        positions = [e.position for e in read_events(conn, EventFilter(), 100)]
        assert positions == [1, 2, 3, 4]
        assert verify_chain(conn).ok


@pytest.mark.usefixtures("recorded_source")
def test_warnings_in_a_group_point_into_each_request(ledger: Ledger) -> None:
    # Given a dispatch reported by one source
    reported = ledger.store.append(events_of(dispatch_body(), ledger=ledger), principal="desk")
    ledger.store.append(events_of(source_body("second-report"), ledger=ledger), principal="desk")
    elsewhere = dispatch_body("second-report", destinations=["Vladivostok"])
    further = dispatch_body("second-report", destinations=["Khabarovsk"])
    yet_further = dispatch_body("second-report", destinations=["Irkutsk"])
    same_again = dispatch_body("second-report")

    # when a second source's appends wait together, one of them repeating it
    _, queued = appends_queued_behind_a_writer(
        ledger,
        lambda: ledger.store.append(events_of(elsewhere, ledger=ledger), principal="desk"),
        [
            lambda: ledger.store.append(events_of(further, ledger=ledger), principal="desk"),
            lambda: ledger.store.append(
                events_of(yet_further, same_again, ledger=ledger), principal="desk"
            ),
        ],
    )

    # then only that request is warned, at its own index
    assert outcome(queued[0]).result.warnings == []
    [warning] = outcome(queued[1]).result.warnings
    assert warning.index == 1
    assert warning.possible_duplicate_of == reported.result.events[0].id


@pytest.mark.usefixtures("recorded_source")
def test_two_sources_reporting_one_flow_in_one_group_are_warned_of_as_if_apart(
    ledger: Ledger,
) -> None:
    ledger.store.append(events_of(source_body("second-report"), ledger=ledger), principal="desk")
    elsewhere = dispatch_body(destinations=["Vladivostok"])

    # when two sources' accounts of one dispatch wait together behind a writer
    _, queued = appends_queued_behind_a_writer(
        ledger,
        lambda: ledger.store.append(events_of(elsewhere, ledger=ledger), principal="desk"),
        [
            lambda: ledger.store.append(events_of(dispatch_body(), ledger=ledger), principal="d"),
            lambda: ledger.store.append(
                events_of(dispatch_body("second-report"), ledger=ledger), principal="desk"
            ),
        ],
    )

    # then the second is warned of the first, which commits with it
    first, second = outcome(queued[0]).result, outcome(queued[1]).result
    assert first.warnings == []
    assert [(w.index, w.possible_duplicate_of) for w in second.warnings] == [
        (0, first.events[0].id)
    ]


@pytest.mark.usefixtures("recorded_source")
def test_a_retry_queued_beside_its_original_is_answered_from_it(ledger: Ledger) -> None:
    batch = events_of(dispatch_body(), dispatch_body(), ledger=ledger)
    key = IdempotencyRequest("retry-in-group", "0" * 64)

    def send() -> AppendOutcome:
        return ledger.store.append(batch, principal="desk", idempotency=key)

    _, queued = appends_queued_behind_a_writer(
        ledger, lambda: ledger.store.append(batch, principal="desk"), [send, send]
    )

    original, retry = (outcome(a) for a in queued)
    assert (original.replayed, retry.replayed) == (False, True)
    assert [e.id for e in retry.result.events] == [e.id for e in original.result.events]
    with ledger.engine.connect() as conn:
        assert len(read_events(conn, EventFilter(), 100)) == 5
