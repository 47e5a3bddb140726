"""Recording times never go back along the log, so `known_at` finds its position at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from uuid6 import uuid7

from service.db.migrate import alembic_config
from service.ledger import Ledger
from service.log.positions import position_known_at
from service.log.tables import EVENTS
from tests.factories import dispatch_body, source_body

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def set_clock(ledger: Ledger, moment: datetime) -> None:
    ledger.store.clock = lambda: moment


def deployments_known_at(client: TestClient, moment: datetime) -> dict[str, Any]:
    response = client.get("/v1/deployments", params={"known_at": stamp(moment)})
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def test_an_event_appended_after_the_clock_went_back_is_stamped_no_earlier_than_the_last(
    ledger: Ledger, client: TestClient, writer: dict[str, str]
) -> None:
    set_clock(ledger, T0)
    assert client.post("/v1/events", json=source_body(), headers=writer).status_code == 201
    set_clock(ledger, T0 - timedelta(hours=1))  # the clock is set back an hour

    later = client.post("/v1/events", json=dispatch_body(), headers=writer)

    assert later.status_code == 201
    assert later.json()["events"][0]["recorded_at"] == stamp(T0)
    # what the ledger knew half an hour before T0: nothing, then or ever after
    assert deployments_known_at(client, T0 - timedelta(minutes=30))["position"] == 0
    assert deployments_known_at(client, T0)["position"] == 2


def test_known_at_sees_a_whole_batch_from_its_recording_time_and_none_of_it_before(
    ledger: Ledger, client: TestClient, writer: dict[str, str]
) -> None:
    set_clock(ledger, T0)
    client.post("/v1/events", json=source_body(), headers=writer)
    set_clock(ledger, T0 + timedelta(seconds=5))
    batch = {"events": [dispatch_body() for _ in range(3)]}
    posted = client.post("/v1/events", json=batch, headers=writer)
    assert posted.status_code == 201, posted.text

    assert deployments_known_at(client, T0 + timedelta(seconds=4))["position"] == 1
    assert deployments_known_at(client, T0 + timedelta(seconds=5))["position"] == 4
    assert deployments_known_at(client, T0 - timedelta(seconds=1))["position"] == 0


def test_a_log_recorded_with_times_going_back_is_noted_and_known_at_stays_exact(
    database_url: str,
) -> None:
    """Before migration 0006 a clock set back could stamp an event earlier than the one
    before it. Such a log is noted, and `known_at` reads it the slow, exact way."""
    engine = create_engine(make_url(database_url))
    config = alembic_config(database_url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0005")
    times = [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=5)]  # the third went back
    with engine.begin() as conn:
        for position, moment in enumerate(times, start=1):
            conn.execute(
                insert(EVENTS).values(
                    position=position,
                    id=uuid7(),
                    stream="source:s",
                    stream_version=position,
                    type="statement.made",
                    schema_version=1,
                    source_id="s",
                    data={},
                    provenance={},
                    recorded_at=moment,
                    recorded_by="old",
                    hash="h",
                    prev_hash="h",
                )
            )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")

    with engine.connect() as conn:
        noted = conn.execute(
            text("SELECT value FROM ledger_meta WHERE key = 'recorded_at_unordered_until'")
        ).scalar()
        head_time = conn.execute(text("SELECT recorded_at FROM log_head")).scalar()
        # recorded by T0 + 12 min: positions 1, 2 and 3 (stamped 0, 10 and 5 minutes on)
        known = position_known_at(conn, T0 + timedelta(minutes=12))
    engine.dispose()

    assert noted == "3"
    assert head_time is not None
    assert known == 3
