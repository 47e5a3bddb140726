"""The database itself refuses to change or remove a recorded event."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from service.domain.events import EventIn, EventInBase
from service.ingest.submit import new_events
from service.ledger import Ledger
from service.log.tables import EVENTS
from tests.factories import dispatch_body, source_body

parse = TypeAdapter[EventInBase](EventIn).validate_python


@pytest.fixture
def recorded(ledger: Ledger) -> dict[str, Any]:
    """Two events on the log; returns the stored row of the first, as it is now."""
    events = new_events([parse(source_body()), parse(dispatch_body())], ledger.gazetteer)
    ledger.store.append(events, principal="desk")
    return stored_row(ledger, 1)


def stored_row(ledger: Ledger, position: int) -> dict[str, Any]:
    with ledger.engine.connect() as conn:
        row = conn.execute(select(EVENTS).where(EVENTS.c.position == position)).one()
    return dict(row._mapping)


def count_events(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        return len(conn.execute(select(EVENTS.c.position)).all())


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET recorded_by = 'someone else' WHERE position = 1",
        "UPDATE events SET data = '{}' WHERE position = 1",
        "UPDATE events SET hash = prev_hash",
    ],
)
def test_an_update_of_a_recorded_event_is_refused_by_the_database(
    ledger: Ledger, recorded: dict[str, Any], statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as conn:
        conn.execute(text(statement))

    assert stored_row(ledger, 1) == recorded


@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM events WHERE position = 1", "DELETE FROM events"],
)
def test_a_delete_of_a_recorded_event_is_refused_by_the_database(
    ledger: Ledger, recorded: dict[str, Any], statement: str
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as conn:
        conn.execute(text(statement))

    assert stored_row(ledger, 1) == recorded
    assert count_events(ledger) == 2


@pytest.mark.postgres_only
def test_truncating_the_events_is_refused_by_the_database(
    ledger: Ledger, recorded: dict[str, Any]
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as conn:
        conn.execute(text("TRUNCATE events CASCADE"))

    assert count_events(ledger) == 2


def test_appending_still_works_after_a_refused_change(
    ledger: Ledger, recorded: dict[str, Any]
) -> None:
    with pytest.raises(DBAPIError), ledger.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE position = 2"))

    outcome = ledger.store.append(
        new_events([parse(dispatch_body(destinations=["Vladivostok"]))], ledger.gazetteer),
        principal="desk",
    )

    assert outcome.result.events[0].position == 3
    assert count_events(ledger) == 3
