"""The hash chain: anyone can recompute it, and an altered event is named by position."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import text, update
from typer.testing import CliRunner

from service.cli.commands import app as cli
from service.domain.events import EventIn, EventInBase
from service.ingest.importing import import_events, read_seed
from service.ingest.submit import new_events
from service.ledger import Ledger
from service.log.tables import EVENTS
from service.log.verify import ChainReport, verify_chain
from service.settings import get_settings
from tests.factories import dispatch_body, source_body

GENESIS = "0" * 64
TAMPERED = 3
SEED_SOURCE = "dailynk-2023-05-nk-workers-russia"
APPENDS_WHILE_VERIFYING = 50

# The fields the hash covers, as documented; the hash and prev_hash themselves are not.
HASHED = (
    "id",
    "position",
    "stream",
    "stream_version",
    "type",
    "schema_version",
    "data",
    "provenance",
    "recorded_at",
    "recorded_by",
    "idempotency_key",
    "correlation_id",
    "causation_id",
)


def recompute(prev_hash: str, event: dict[str, Any]) -> str:
    """sha256(prev_hash + canonical JSON), written from the documentation alone."""
    fields = {name: event[name] for name in HASHED}
    # Times are hashed in one form: UTC, microseconds, `Z`.
    moment = datetime.fromisoformat(event["recorded_at"].replace("Z", "+00:00"))
    fields["recorded_at"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev_hash.encode() + canonical.encode("utf-8")).hexdigest()


def seed(ledger: Ledger) -> int:
    return import_events(ledger.store, ledger.gazetteer, read_seed(), principal="seed")


def all_events(client: TestClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = client.get("/v1/events", params={"limit": 1000}).json()["events"]
    return events


def tamper(ledger: Ledger, position: int) -> None:
    """What an intruder with database access could do: lift the guard, edit a row."""
    with ledger.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(
            update(EVENTS).where(EVENTS.c.position == position).values(data={"quietly": "changed"})
        )


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_fresh_ledger_verifies(client: TestClient) -> None:
    response = client.get("/v1/audit/verify")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "checked": 0,
        "head_position": 0,
        "first_broken_position": None,
        "reason": None,
    }


def test_a_seeded_ledger_verifies(client: TestClient, ledger: Ledger) -> None:
    count = seed(ledger)

    report = client.get("/v1/audit/verify").json()

    assert count > 1
    assert report["ok"] is True
    assert report["checked"] == report["head_position"] == count
    assert report["first_broken_position"] is None


def test_the_cli_verifies_a_seeded_ledger(cli_env: None, ledger: Ledger) -> None:
    count = seed(ledger)

    result = CliRunner().invoke(cli, ["verify"])

    assert result.exit_code == 0, result.output
    assert f"{count} events" in result.output


def test_each_hash_can_be_recomputed_from_the_documented_recipe(
    client: TestClient, ledger: Ledger, writer: dict[str, str]
) -> None:
    seeded = seed(ledger)
    headers = {**writer, "Idempotency-Key": "recompute-me"}
    client.post(
        "/v1/events", json=source_body("another-source", title="Ünïcode — 북한"), headers=headers
    )

    events = all_events(client)
    assert len(events) == seeded + 1 and seeded > 0  # every event below is recomputed

    previous = GENESIS
    for event in events:
        assert event["prev_hash"] == previous
        assert recompute(previous, event) == event["hash"], event["position"]
        previous = event["hash"]
    assert [e["position"] for e in events] == list(range(1, len(events) + 1))


def test_the_hash_covers_the_principal(client: TestClient, writer: dict[str, str]) -> None:
    client.post("/v1/events", json=source_body(), headers=writer)
    event = all_events(client)[0]

    forged = {**event, "recorded_by": "someone else"}

    assert recompute(GENESIS, forged) != event["hash"]


def test_an_altered_event_is_named_by_its_position(client: TestClient, ledger: Ledger) -> None:
    seed(ledger)

    tamper(ledger, TAMPERED)
    report = client.get("/v1/audit/verify").json()

    assert report["ok"] is False
    assert report["first_broken_position"] == TAMPERED
    assert report["checked"] == TAMPERED - 1
    assert "hash" in report["reason"]


def test_the_cli_fails_and_names_the_altered_position(cli_env: None, ledger: Ledger) -> None:
    seed(ledger)
    tamper(ledger, TAMPERED)

    result = CliRunner().invoke(cli, ["verify"])

    assert result.exit_code == 1
    assert f"position {TAMPERED}" in result.output


@pytest.mark.parametrize(
    "altered",
    ["'[1, 2]'", "'\"a string\"'", "'{}'"],
    ids=["a-list", "a-string", "empty"],
)
def test_an_event_altered_out_of_shape_is_named_not_a_crash(
    client: TestClient, ledger: Ledger, altered: str
) -> None:
    seed(ledger)
    tamper(ledger, TAMPERED)
    with ledger.engine.begin() as conn:
        cast = "::json" if conn.dialect.name == "postgresql" else ""
        conn.execute(text(f"UPDATE events SET data = {altered}{cast} WHERE position = {TAMPERED}"))

    response = client.get("/v1/audit/verify")

    assert response.status_code == 200, response.text
    assert response.json()["ok"] is False
    assert response.json()["first_broken_position"] == TAMPERED


@pytest.mark.sqlite_only  # PostgreSQL itself refuses text that is not JSON in a json column
def test_an_event_that_is_no_longer_json_is_named_not_a_crash(
    client: TestClient, ledger: Ledger
) -> None:
    seed(ledger)
    tamper(ledger, TAMPERED)
    with ledger.engine.begin() as conn:
        conn.execute(text(f"UPDATE events SET data = 'not json' WHERE position = {TAMPERED}"))

    report = client.get("/v1/audit/verify").json()

    assert report["ok"] is False
    assert report["first_broken_position"] == TAMPERED
    assert report["checked"] == TAMPERED - 1


def test_an_altered_last_event_is_found(
    client: TestClient, ledger: Ledger, writer: dict[str, str]
) -> None:
    client.post("/v1/events", json=source_body(), headers=writer)
    client.post("/v1/events", json=dispatch_body(), headers=writer)

    tamper(ledger, 2)

    report = client.get("/v1/audit/verify").json()
    assert report["ok"] is False
    assert report["first_broken_position"] == 2


def test_a_removed_event_is_named_by_its_position(client: TestClient, ledger: Ledger) -> None:
    seed(ledger)
    with ledger.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER events_no_delete"))
        conn.execute(text(f"DELETE FROM events WHERE position = {TAMPERED}"))

    report = client.get("/v1/audit/verify").json()

    assert report["ok"] is False
    assert report["first_broken_position"] == TAMPERED


def test_a_removed_last_event_is_found(client: TestClient, ledger: Ledger) -> None:
    count = seed(ledger)
    with ledger.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER events_no_delete"))
        conn.execute(text(f"DELETE FROM events WHERE position = {count}"))

    report = client.get("/v1/audit/verify").json()

    assert report["ok"] is False
    assert report["first_broken_position"] == count


def test_verifying_while_events_are_appended_never_reports_a_false_break(
    ledger: Ledger,
) -> None:
    seed(ledger)
    parse = TypeAdapter[EventInBase](EventIn).validate_python
    one = new_events([parse(dispatch_body(source_id=SEED_SOURCE))], ledger.gazetteer)
    done = threading.Event()
    reports: list[ChainReport] = []

    def keep_verifying() -> None:
        while not done.is_set():
            with ledger.engine.connect() as conn:
                reports.append(verify_chain(conn))

    verifier = threading.Thread(target=keep_verifying)
    verifier.start()
    try:
        for _ in range(APPENDS_WHILE_VERIFYING):
            ledger.store.append(one, principal="desk")
    finally:
        done.set()
        verifier.join()

    assert reports
    assert [r for r in reports if not r.ok] == []
