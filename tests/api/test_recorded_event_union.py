"""What the contract says a recorded event is, the service serves (issue 16).

openapi/openapi.json declares `RecordedEvent` a union discriminated on `type`, each
variant's `data` its type's payload (service/api/openapi_events.py); at run time an
envelope stays one model with its stored `data`. So the served JSON is checked against
the committed contract: a ledger holding every event type, in every schema version it
has had (the seed, the examples of the contract before DESIGN §1b and today's
illustrations, with corrections, retractions and corroborations; then about half of the
events of each type with older versions taken back to version 1, as an old ledger holds
them), is read through every answer that carries events, stored and current, and each
answer validates against its operation's schema in the contract.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from fastapi.testclient import TestClient

from service.domain.chain import GENESIS_HASH, event_hash
from service.domain.envelope import RecordedEvent
from service.domain.events import PAYLOAD_TYPES, PAYLOAD_VERSIONS, EventType
from service.domain.examples import PLACEHOLDER_TARGET_ID, event_examples, illustration_source
from service.domain.readers import UPCASTERS
from service.ingest.importing import import_events, read_seed
from service.log.export import export_lines
from service.log.restore import restore
from tests.api.test_contract_kept import PLACEHOLDER_ID, old_examples, old_seed
from tests.conftest import DatabaseFactory
from tests.follow.servers import ThreadedServer, events_of, read_stream
from tests.projections.test_properties import fresh_service

ROOT = Path(__file__).resolve().parents[2]
CONTRACT: dict[str, Any] = json.loads((ROOT / "openapi" / "openapi.json").read_text("utf-8"))


# --- the contract's schemas, as validators ----------------------------------------------------


@cache
def answer_validator(method: str, path: str, media_type: str = "application/json") -> Any:
    """A validator of an operation's 200 answer, as the committed contract declares it."""
    schema = CONTRACT["paths"][path][method]["responses"]["200"]["content"][media_type]["schema"]
    return _validator(schema)


@cache
def event_validator() -> Any:
    return _validator({"$ref": "#/components/schemas/RecordedEvent"})


def _validator(schema: dict[str, Any]) -> Any:
    # An OpenAPI 3.1 schema is JSON Schema 2020-12 (`discriminator` is an annotation);
    # its references point into the document's components.
    root = {**schema, "components": CONTRACT["components"]}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def assert_valid(validator: Any, answer: Any, where: str) -> None:
    errors = [f"{e.instance_path}: {e.message}"[:300] for e in validator.iter_errors(answer)]
    assert errors == [], (where, errors[:5])


# --- a ledger of every type in every version --------------------------------------------------


def record_every_type(client: TestClient, editor: dict[str, str]) -> None:
    """The seed, today's illustrations and the old contract's seed and examples: every
    event type, corrections, retractions and corroborations among them."""
    ledger = client.app.state.ledger
    import_events(ledger.store, ledger.gazetteer, read_seed(), principal="seed")
    post(client, editor, illustration_source().body)
    for example in event_examples().values():
        if example.from_seed:
            continue
        body = example.body
        if example.target is not None:
            body = targeting(body, recorded_id(client, example.target))
        post(client, editor, body)
    for body in old_seed():
        if body["type"] != EventType.source_recorded.value:
            post(client, editor, body)
    target = None
    for kind, body in old_examples().items():
        if kind == EventType.source_recorded.value:
            continue
        event_id = post(client, editor, targeting(body, target) if target else body)
        if kind == EventType.workers_dispatched.value:
            target = event_id


def post(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post("/v1/events", json=body, headers=headers)
    assert response.status_code == 201, (body["type"], response.text)
    event_id: str = response.json()["events"][0]["id"]
    return event_id


def targeting(body: dict[str, Any], event_id: str) -> dict[str, Any]:
    text = json.dumps(body)
    for placeholder in (PLACEHOLDER_TARGET_ID, PLACEHOLDER_ID):
        text = text.replace(placeholder, event_id)
    replaced: dict[str, Any] = json.loads(text)
    return replaced


def recorded_id(client: TestClient, body: dict[str, Any]) -> str:
    """The id of the recorded event that `body` (a seed line) became."""
    events = client.get("/v1/events", params={"type": body["type"], "limit": 1000}).json()
    locator = body["provenance"]["locator"]
    return next(e["id"] for e in events["events"] if e["provenance"]["locator"] == locator)


def fields_added_since_version_1(event_type: str) -> dict[str, Any]:
    """The fields the upcasters fill in a version 1 payload, with the values they fill."""
    added: dict[str, Any] = {}
    for version in range(1, PAYLOAD_VERSIONS[EventType(event_type)]):
        added = UPCASTERS[(event_type, version)](added)
    return added


def with_half_in_version_1(lines: Iterator[str]) -> list[str]:
    """The exported log with every other event of each type that has had several versions
    (of those whose added fields hold what version 1 meant) recorded in version 1,
    chained anew: a ledger recorded partly before version 2 existed."""
    seen: dict[str, int] = defaultdict(int)
    prev, out = GENESIS_HASH, []
    for line in lines:
        envelope = json.loads(line)
        kind, data = envelope["type"], envelope["data"]
        if EventType(kind) in PAYLOAD_VERSIONS:
            added = fields_added_since_version_1(kind)
            if all(data.get(name) == value for name, value in added.items()):
                seen[kind] += 1
                if seen[kind] % 2 == 0:
                    envelope["data"] = {k: v for k, v in data.items() if k not in added}
                    envelope["schema_version"] = 1
        envelope["prev_hash"] = prev
        envelope["hash"] = prev = event_hash(
            prev, RecordedEvent.model_validate(envelope).hashed_fields()
        )
        out.append(json.dumps(envelope))
    return out


@contextmanager
def every_type_in_every_version(
    client: TestClient, corrector: dict[str, str], databases: DatabaseFactory
) -> Iterator[TestClient]:
    record_every_type(client, corrector)
    engine = client.app.state.ledger.engine
    lines = with_half_in_version_1(export_lines(engine))
    with fresh_service(databases) as (ledger, old):
        restore(ledger.store, lines)
        yield old


# --- the answers that carry events --------------------------------------------------------


def test_every_answer_carrying_events_validates_against_the_contracts_union(
    client: TestClient, corrector: dict[str, str], databases: DatabaseFactory
) -> None:
    with every_type_in_every_version(client, corrector, databases) as old:
        stored = old.get("/v1/events", params={"limit": 1000}).json()
        events = stored["events"]
        # given every type, and each type with older versions in each of them
        assert {e["type"] for e in events} == {t.value for t in PAYLOAD_TYPES}
        versions = {(e["type"], e["schema_version"]) for e in events}
        for event_type, current in PAYLOAD_VERSIONS.items():
            assert {(event_type.value, v) for v in range(1, current + 1)} <= versions

        for schema in ("stored", "current"):
            # the log, one event at a time, and each source's stream
            page = old.get("/v1/events", params={"limit": 1000, "schema": schema}).json()
            assert_valid(answer_validator("get", "/v1/events"), page, f"/v1/events {schema}")
            for event in events:
                one = old.get(f"/v1/events/{event['id']}", params={"schema": schema}).json()
                assert_valid(answer_validator("get", "/v1/events/{event_id}"), one, event["id"])
            for name in {e["stream"] for e in events}:
                stream = old.get(f"/v1/streams/{name}", params={"schema": schema}).json()
                assert_valid(answer_validator("get", "/v1/streams/{stream}"), stream, name)

        # the events behind the deployments' rows, what changed, and a source's facts
        behind = old.get("/v1/deployments/events", params={"limit": 1000}).json()
        assert behind["events"]
        assert_valid(answer_validator("get", "/v1/deployments/events"), behind, "behind")
        changes = old.get("/v1/changes", params={"from_position": 0}).json()
        assert any(change["events"] for change in changes["changes"])
        assert_valid(answer_validator("get", "/v1/changes"), changes, "/v1/changes")
        for source_id in {e["provenance"]["source_id"] for e in events}:
            source = old.get(f"/v1/sources/{source_id}").json()
            assert_valid(answer_validator("get", "/v1/sources/{source_id}"), source, source_id)


def test_each_message_of_the_live_stream_is_an_event_of_the_union(
    client: TestClient, corrector: dict[str, str], databases: DatabaseFactory
) -> None:
    with every_type_in_every_version(client, corrector, databases) as old:
        count = len(old.get("/v1/events", params={"limit": 1000}).json()["events"])
        server = ThreadedServer(old.app).start()
        try:
            messages = read_stream(
                server.url + "/v1/events/stream?after=0",
                until=lambda m: len(events_of(m)) == count,
            )
        finally:
            server.stop()

    declared = answer_validator("get", "/v1/events/stream", "text/event-stream")
    for message in events_of(messages):
        assert_valid(declared, message.data, f"message {message.id}")
        assert message.data is not None
        assert (message.event, message.id) == (message.data["type"], message.data["position"])


def test_the_union_refuses_a_payload_of_another_type() -> None:
    # A dispatch's envelope with a statement's data is no recorded event: `data` is typed
    # by `type`, not any object.
    statement = {
        "speaker": {"name": "Im Chon-il"},
        "quote": "Solidarity.",
        "language": "en",
    }
    envelope = {
        "id": "01890000-0000-7000-8000-000000000001",
        "position": 2,
        "stream": "source:dailynk-2023-05-nk-workers-russia",
        "stream_version": 2,
        "type": "workers.dispatched",
        "schema_version": 2,
        "data": statement,
        "provenance": {"source_id": "dailynk-2023-05-nk-workers-russia", "locator": "…"},
        "recorded_at": "2026-12-03T00:00:00Z",
        "recorded_by": "desk",
        "hash": "0" * 64,
        "prev_hash": "0" * 64,
    }
    assert not event_validator().is_valid(envelope)
    assert event_validator().is_valid({**envelope, "type": "statement.issued"})
