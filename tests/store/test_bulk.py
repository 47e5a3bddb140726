"""Rows written straight through the driver are stored exactly as SQLAlchemy stores them."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text
from uuid6 import uuid7

from service.db.bulk import insert_rows
from service.db.postgresql import COPY_FROM_ROWS
from service.ledger import Ledger
from service.views.deployments.tables import FLOWS


def flow_row(number: int) -> dict[str, Any]:
    return {
        "fact_id": uuid7(),
        "position": number,
        "superseded_at": None,
        "kind": "dispatched",
        "place_id": "ru-moscow",
        "country": "RU",
        "affiliation": "civilian",
        "places_in_fact": 2,
        "distinct_places": 2,
        "distinct_countries": 1,
        "first_of_place": True,
        "first_of_country": number % 2 == 0,
        "first_of_fact": False,
        "count_min": 315,
        "count_best": None,
        "count_max": 385,
        "period_start": date(2023, 3, 20),
        "period_end": date(999, 12, 31) if number == 1 else None,  # a year of 3 digits
        "source_id": "dailynk-2023",
        "reported_on": date(2023, 5, 3),
    }


def stored(ledger: Ledger) -> list[tuple[Any, ...]]:
    """The rows as the database holds them (raw text on SQLite), in position order."""
    columns = ", ".join(c.name for c in FLOWS.columns if c.name != "id")
    with ledger.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {columns} FROM flow_contributions ORDER BY position"))
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("count", [1, COPY_FROM_ROWS + 2])
def test_rows_inserted_in_bulk_are_stored_as_an_insert_stores_them(
    ledger: Ledger, count: int
) -> None:
    rows = [flow_row(n) for n in range(1, count + 1)]
    with ledger.engine.begin() as conn:
        conn.execute(insert(FLOWS), rows)
    by_sqlalchemy = stored(ledger)
    with ledger.engine.begin() as conn:
        conn.execute(delete(FLOWS))
        insert_rows(conn, FLOWS, rows)

    assert stored(ledger) == by_sqlalchemy
    with ledger.engine.connect() as conn:  # and read back as they were given
        read = conn.execute(select(FLOWS).order_by(FLOWS.c.position)).mappings().all()
    assert [{k: r[k] for k in rows[0]} for r in read] == rows
