"""SQLite's planner statistics are refreshed as the log doubles, and by a rebuild."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter
from sqlalchemy import text

from service.domain.events import EventIn, EventInBase
from service.ingest.submit import new_events
from service.ledger import Ledger, derived_table_rules
from service.log.statistics import crosses_a_power_of_two
from service.views.rebuild import rebuild_projections
from tests.factories import dispatch_body, source_body

EVENT = TypeAdapter[EventInBase](EventIn)


@pytest.mark.parametrize(
    ("first", "last", "crosses"),
    [
        (1, 1023, False),
        (1, 1024, True),
        (1024, 1024, True),
        (1025, 2047, False),
        (2000, 2100, True),
        (3000, 5000, True),
        (5000, 8191, False),
    ],
)
def test_a_refresh_is_due_each_time_the_log_reaches_a_power_of_two(
    first: int, last: int, crosses: bool
) -> None:
    assert crosses_a_power_of_two(first, last) is crosses


def statistics_rows(ledger: Ledger) -> int:
    with ledger.engine.connect() as conn:
        exists = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        ).scalar()
        if not exists:
            return 0
        return int(
            conn.execute(
                text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'flow_contributions'")
            ).scalar_one()
        )


def append(ledger: Ledger, bodies: list[dict[str, object]]) -> None:
    events = new_events([EVENT.validate_python(b) for b in bodies], ledger.gazetteer)
    ledger.store.append(events, principal="test")


@pytest.mark.sqlite_only  # PostgreSQL's autovacuum keeps its own statistics
def test_sqlite_statistics_appear_once_the_log_reaches_1024_events(ledger: Ledger) -> None:
    append(ledger, [source_body()])
    append(ledger, [dispatch_body() for _ in range(1000)])
    assert statistics_rows(ledger) == 0

    append(ledger, [dispatch_body() for _ in range(100)])

    assert statistics_rows(ledger) > 0


@pytest.mark.sqlite_only
def test_a_rebuild_leaves_sqlite_statistics_behind(ledger: Ledger) -> None:
    append(ledger, [source_body(), dispatch_body()])

    rebuild_projections(ledger.engine, derived_table_rules())

    assert statistics_rows(ledger) > 0
