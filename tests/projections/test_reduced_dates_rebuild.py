"""Stocks of a month, a quarter, a year or no date, and sources of a month, are rebuilt
into the very rows the appends made: in chunks, with rows built ahead or not, and after
a correction of the source date an undated stock counts from."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from service.domain.envelope import RecordedEvent
from service.domain.events import EventIn
from service.ingest.submit import new_events
from service.ledger import Ledger, derived_table_rules
from service.views.rebuild import ReplayPlan, check_projections
from tests.factories import dispatch_body, meta_body, source_body

IN_THREES = ReplayPlan(chunk_events=3, rows_built_ahead=False)
IN_THREES_BUILT_AHEAD = ReplayPlan(chunk_events=3, rows_built_ahead=True, rows_built_ahead_from=0)
DESK = "desk-reduced"


def stock(as_of: str | None, n: int = 1000) -> dict[str, Any]:
    return {
        "type": "workforce.estimated",
        "provenance": {"source_id": DESK, "locator": f"about {n} in Russia"},
        "data": {
            "place": {"name": "Russia"},
            "count": {"text": str(n), "qualifier": "exact", "number": n},
            "as_of": as_of,
        },
    }


def appended(ledger: Ledger, *bodies: dict[str, Any]) -> list[RecordedEvent]:
    events = new_events(TypeAdapter(list[EventIn]).validate_python(bodies), ledger.gazetteer)
    return ledger.store.append(events, principal="test").result.events


@pytest.mark.parametrize("plan", [IN_THREES, IN_THREES_BUILT_AHEAD], ids=["here", "ahead"])
def test_stocks_of_reduced_and_unknown_dates_rebuild_into_the_rows_appended(
    seeded: Ledger, plan: ReplayPlan
) -> None:
    [source] = appended(seeded, source_body(DESK, published_on="2023-06"))
    appended(
        seeded,
        stock("2023-Q1"),
        stock("2023-05", 900),
        stock(None, 1100),
        dispatch_body(source_id=DESK, destinations=["Moscow"], period={"start": "2023-07"}),
    )
    appended(
        seeded,
        meta_body(
            "fact.corrected",
            str(source.id),
            source_id=DESK,
            reason="the report is of May",
            replacement={**source.data, "published_on": "2023-05"},
        ),
    )

    report = check_projections(seeded.engine, derived_table_rules(), plan)

    assert report.differences == []
